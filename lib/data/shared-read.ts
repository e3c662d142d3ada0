import 'server-only';

/**
 * A read shared by everyone who asks within `maxAgeMs`, per server process: for aggregates that do
 * not depend on who is looking (the board's lanes, open requests, charts; the status counts).
 * The promise is kept, so concurrent page views share one read in flight rather than each running
 * it; a failed read is forgotten at once. Bounded by age, not invalidated: a change shows at the
 * latest `maxAgeMs` later. Keys are a few fixed names, so the map stays small. `maxAgeMs <= 0`
 * reads afresh (the services' tests and the API).
 */
const entries = new Map<string, { at: number; value: Promise<unknown> }>();

export function sharedRead<T>(key: string, maxAgeMs: number, read: () => Promise<T>): Promise<T> {
  if (maxAgeMs <= 0) return read();
  const now = Date.now();
  const hit = entries.get(key);
  if (hit && now - hit.at < maxAgeMs) return hit.value as Promise<T>;
  const value = read();
  entries.set(key, { at: now, value });
  value.catch(() => {
    if (entries.get(key)?.value === value) entries.delete(key);
  });
  return value;
}

/**
 * How old the board's and the overview's shared figures may be when a page shows them: one second
 * bounds what a lead sees as stale (the board also refreshes itself while runs progress), and under
 * load it turns one read per page view into one read per second per process.
 */
export const BOARD_MAX_AGE_MS = 1000;
