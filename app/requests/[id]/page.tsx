import type { Metadata } from 'next';
import { RequestWorkspace, loadRequest } from './request-workspace';

/** The tab names the request: "#12 Add loyalty points · Cutover". */
export async function generateMetadata({ params }: { params: Promise<{ id: string }> }): Promise<Metadata> {
  const { request } = await loadRequest((await params).id);
  return { title: `#${request.number} ${request.title}` };
}

/** A request, opened at its current step (or the first open step the viewer holds). */
export default async function RequestPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  return <RequestWorkspace id={(await params).id} searchParams={await searchParams} />;
}
