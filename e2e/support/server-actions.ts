import type { Page } from '@playwright/test';

/** A server-action POST as the browser made it. */
export interface RecordedAction {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** What a replay got back: the raw response, and the action's result when it could be read. */
export interface ReplayResult {
  status: number;
  text: string;
  result: { ok: boolean; message?: string } | null;
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
export async function replayServerAction(page: Page, recorded: RecordedAction, body: string): Promise<ReplayResult> {
  const res = await page.request.post(recorded.url, { headers: recorded.headers, data: body });
  const text = await res.text();
  return { status: res.status(), text, result: actionResult(text) };
}

/** The action's return value: the RSC payload row that holds the `{ ok, ... }` object. */
function actionResult(text: string): ReplayResult['result'] {
  for (const line of text.split('\n')) {
    const json = line.replace(/^[0-9a-f]+:/, '');
    if (!json.startsWith('{"ok":')) continue;
    try {
      return JSON.parse(json) as ReplayResult['result'];
    } catch {
      return null;
    }
  }
  return null;
}
