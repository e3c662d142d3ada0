'use server';

import { revalidatePath } from 'next/cache';
import { attachTestReport, reportFormatOf } from '../services/test-reports';
import { AttachTestReportSchema } from '../validation/test-report';
import { formObject, runAction, type ActionResult } from './run-action';

export type AttachTestReportState = ActionResult<{ summary: string; passed: boolean; revision: number }> | undefined;

/** Step 5: attaches a report chosen as a file or pasted (JUnit XML or a JSON summary, told apart by content). */
export async function attachTestReportAction(_prev: AttachTestReportState, form: FormData): Promise<AttachTestReportState> {
  const raw = formObject(form);
  const file = raw.file;
  // A chosen file wins over pasted text; what is not a File reads as no file.
  if (typeof File !== 'undefined' && file instanceof File && file.size > 0) {
    raw.report = await file.text();
    raw.fileName = file.name;
  }
  delete raw.file;
  const result = await runAction(AttachTestReportSchema, raw, async (actor, input) => {
    const format = reportFormatOf(input.report);
    const attached = await attachTestReport(actor.id, {
      requestId: input.requestId, revision: input.revision, text: input.report, format,
      mediaType: format === 'junit' ? 'application/xml' : 'application/json', fileName: input.fileName,
    });
    return { summary: attached.summary, passed: attached.passed, revision: attached.revision };
  });
  if (!result.ok) return result;
  revalidatePath(`/requests/${String(raw.requestId)}`, 'layout');
  return { ...result, message: `Report attached to revision ${result.data.revision}: ${result.data.summary}.` };
}
