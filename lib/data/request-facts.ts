import 'server-only';
import { cache } from 'react';
import { getDb } from '../db/client';
import { getGateState } from '../services/gate';
import { getStepEvidence, loadRequestFacts } from '../services/step-evidence';

/**
 * A request's evidence facts, step verdicts and gate state, read once per page view: the request
 * page's summary, its open step's card, the evidence beside it and the step's panels (gate,
 * deploy, success criteria) all ask. React's `cache` lasts one server render; outside one (API
 * routes, tests) each call reads afresh. No access check: the lib/data readers that call these
 * check the viewer first.
 */
export const requestFacts = cache((requestId: string) => loadRequestFacts(getDb(), requestId));

export const requestStepEvidence = cache(async (requestId: string) => getStepEvidence(getDb(), requestId, await requestFacts(requestId)));

export const requestGateState = cache(async (requestId: string) => getGateState(getDb(), requestId, await requestFacts(requestId)));
