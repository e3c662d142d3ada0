import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { StepKeySchema } from '@/lib/validation/request-page';
import { RequestWorkspace, loadRequest } from '../../request-workspace';

type Params = Promise<{ id: string; key: string }>;

/** "#12 Add loyalty points: Create backup · Cutover". */
export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  const { id, key } = await params;
  const { request } = await loadRequest(id);
  const task = request.tasks.find((t) => t.key === key);
  return { title: `#${request.number} ${request.title}${task ? `: ${task.subject}` : ''}` };
}

/** A deep link to one step of a request: /requests/ID/steps/KEY. */
export default async function RequestStepPage({ params, searchParams }: { params: Params; searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { id, key } = await params;
  if (!StepKeySchema.safeParse(key).success) notFound();
  return <RequestWorkspace id={id} stepKey={key} searchParams={await searchParams} />;
}
