import type { DriftRunInput } from '../validation/drift';
import { queueRun } from './runs';

/**
 * An Analysis-step holder, a database administrator, a lead or an admin asks whether the request's
 * target is what its applied migrations say (queueRun checks who is asking, then the folder).
 */
export async function requestDriftCheck(actorId: string, input: DriftRunInput) {
  return queueRun(actorId, { kind: 'drift', requestId: input.requestId, ...(input.folderId ? { folderId: input.folderId } : {}) });
}
