import type { Page } from '@playwright/test';

/** A server-action POST as the browser made it. */
export interface RecordedAction {
  url: string;
  headers: Record<string, string>;
  body: string;
}

// What makes a POST a server-action call; cookies are left out so a replay carries its own.
const REPLAYED_HEADERS = ['next-action', 'next-router-state-tree', 'content-type', 'accept', 'origin'];

/** Runs `trigger` and returns the server-action request it made. */
export async function recordServerAction(page: Page, trigger: () => Promise<void>): Promise<RecordedAction> {
  const [request] = await Promise.all([
    page.waitForRequest((r) => r.method() === 'POST' && r.headers()['next-action'] !== undefined),
    trigger(),
  ]);
  const all = await request.allHeaders();
  const headers = Object.fromEntries(REPLAYED_HEADERS.filter((h) => all[h] !== undefined).map((h) => [h, all[h]]));
  return { url: request.url(), headers, body: request.postData() ?? '' };
}

/** Posts a recorded action again from `page`'s context (its cookies), with a crafted body. */
export async function replayServerAction(page: Page, recorded: RecordedAction, body: string): Promise<{ status: number; text: string }> {
  const res = await page.request.post(recorded.url, { headers: recorded.headers, data: body });
  return { status: res.status(), text: await res.text() };
}
