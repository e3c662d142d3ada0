import { revalidatePath } from 'next/cache';
import { NextResponse } from 'next/server';
import { z } from 'zod';
import { toActionError } from '@/lib/actions/run-action';
import { apiError, authenticateChange, handle, mediaTypeOf, respond } from '@/lib/api/route';
import { readBodyCapped } from '@/lib/api/read-body';
import { listTestReports } from '@/lib/data/test-reports';
import { assertCanAttachTestReport, attachTestReport } from '@/lib/services/test-reports';
import { idSchema, fieldErrors } from '@/lib/validation/common';
import { MAX_TEST_REPORT_BYTES, TestReportTargetSchema } from '@/lib/validation/test-report';

const ACCEPTED = ['application/xml', 'text/xml', 'application/json'];

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** GET /api/v1/requests/:id/test-reports: the request's test reports, newest first, with their failures. */
export async function GET(_req: Request, ctx: { params: Promise<{ id: string }> }) {
  const { id } = await ctx.params;
  return handle(z.object({ id: idSchema }), { id }, (actor, input) => listTestReports(actor, input.id));
}

/**
 * POST /api/v1/requests/:id/test-reports[?revision=N]: attaches a test report to the current
 * revision (or revision N). The body is the report: JUnit XML (Content-Type application/xml or
 * text/xml) or a JSON summary (application/json). Answers 201 with the summary. In this order,
 * so that nothing is read for someone who may not attach: who is asking (401), cross-site cookie
 * calls (403), the query (422), step 5's role (403/404), the media type (415), the size (413).
 */
export async function POST(req: Request, ctx: { params: Promise<{ id: string }> }) {
  try {
    const auth = await authenticateChange(req);
    if (auth instanceof NextResponse) return auth;
    const { id } = await ctx.params;
    const target = TestReportTargetSchema.safeParse({ requestId: id, revision: new URL(req.url).searchParams.get('revision') ?? undefined });
    if (!target.success) return respond({ ok: false, code: 'invalid', message: 'Some fields need attention.', fieldErrors: fieldErrors(target.error) });
    await assertCanAttachTestReport(auth.actor.id, target.data.requestId);
    const mediaType = mediaTypeOf(req.headers.get('content-type'));
    if (!ACCEPTED.includes(mediaType)) {
      return apiError(415, 'unsupported_media_type', 'Send JUnit XML with Content-Type: application/xml (or text/xml), or a JSON summary with Content-Type: application/json.');
    }
    const bytes = await readBodyCapped(req, MAX_TEST_REPORT_BYTES);
    if (!bytes) return apiError(413, 'payload_too_large', `Test reports can be at most ${MAX_TEST_REPORT_BYTES / 1024 / 1024} MiB.`);
    const text = bytes.toString('utf8');
    if (mediaType === 'application/json' && !isJson(text)) return apiError(400, 'invalid_json', 'The request body is not valid JSON.');
    const report = await attachTestReport(auth.actor.id, {
      ...target.data, text, format: mediaType === 'application/json' ? 'json' : 'junit', mediaType,
    });
    revalidatePath(`/requests/${target.data.requestId}`, 'layout');
    return respond({ ok: true, data: report }, 201);
  } catch (err) {
    return respond(toActionError(err));
  }
}
