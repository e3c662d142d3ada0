import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPool } from '@/lib/db/client';
import { agentEventsAfter } from '@/lib/agents/events';
import { openTestAppStore } from '../support/app-store';

let store: Awaited<ReturnType<typeof openTestAppStore>>;

beforeAll(async () => {
  store = await openTestAppStore();
  // Ids 1..25: across the 9 -> 10 boundary, where ids compared as text would sort "10" before "2".
  await getPool().query(
    `INSERT INTO agent_events (type, roles, payload) SELECT 'task.ready', ARRAY['database-optimizer'], jsonb_build_object('n', g) FROM generate_series(1, 25) g`,
  );
}, 60_000);

afterAll(async () => store?.close());

describe('agent events are replayed in id order', () => {
  const audience = { agentRoles: ['database-optimizer'], accountId: '00000000-0000-4000-8000-000000000000' };

  it('returns every event once, oldest first, whatever the number of digits', async () => {
    const ids = (await agentEventsAfter(audience, '0', 100)).map((e) => Number(e.id));
    expect(ids).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
  });

  it('pages by id: the next events after one, none skipped', async () => {
    const seen: number[] = [];
    let after = '7';
    for (;;) {
      const page = await agentEventsAfter(audience, after, 3);
      if (page.length === 0) break;
      seen.push(...page.map((e) => Number(e.id)));
      after = page.at(-1)!.id;
    }
    expect(seen).toEqual(Array.from({ length: 18 }, (_, i) => i + 8));
  });
});
