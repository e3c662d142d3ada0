import { expect, test } from '@playwright/test';
import { ENTRY_POINTS, HTTP_OF, PERSONAS, type EntryPoint, type Scope } from '../tests/support/entry-points';
import { outcomeOf } from './support/action-client';
import { openProofWorld, type ProofWorld } from './support/proof-fixtures';
import { StoreDigest } from './support/store-agent';

// Every server action and API route, called directly over HTTP (no UI) as anonymous, an account
// with no role, each role and each agent role, on their own records and on others': allowed
// calls succeed; every other call is refused with the right code and changes no row of the app
// store. Generated from tests/support/entry-points.ts (tests/integration/entry-points-guard.test.ts
// keeps that table complete).

// Not serial: a failing entry point must not hide the others (a new worker repeats beforeAll).

let world: ProofWorld;
const totals = { calls: 0, allowed: 0, refusals: 0, digests: 0 };

test.beforeAll(async ({ playwright }) => {
  test.setTimeout(180_000);
  world = await openProofWorld(playwright);
});

test.afterAll(async () => {
  console.log(
    `[authorization matrix] ${ENTRY_POINTS.length} entry points x ${PERSONAS.length} personas: ${totals.calls} calls, ` +
      `${totals.allowed} allowed and checked, ${totals.refusals} refusals checked (code and unchanged store), ${totals.digests} store digests`,
  );
  await world?.close();
});


const expectedRefusal = (signedIn: boolean) => (signedIn ? 'forbidden' : 'unauthenticated');

async function checkCase(entry: EntryPoint, personaName: (typeof PERSONAS)[number]['name'], scope: Scope) {
  const persona = world.personas.get(personaName)!;
  const label = `${entry.id} as ${personaName} on ${scope} record`;
  await world.agent.waitIdle();
  const input = await entry.prepare(world.fx, { persona, selfId: persona.id, otherId: world.otherAuthor.id, scope });
  const before = await world.store.digest();
  const result = await world.invoke(entry, persona, input);
  const after = await world.store.digest();
  totals.calls += 1;
  totals.digests += 2;
  const changed = StoreDigest.changed(before, after);
  const outcome = outcomeOf(result);
  expect(result.status, `${label}: never a server error (${result.text.slice(0, 300)})`).toBeLessThan(500);

  if (entry.may(persona, scope)) {
    totals.allowed += 1;
    expect(outcome, `${label} is allowed: ${result.text.slice(0, 400)}`).toMatchObject({ ok: true });
    if (entry.writes) expect(changed.length, `${label} is allowed and writes`).toBeGreaterThan(0);
    else expect(changed, `${label} is a read: nothing written`).toEqual([]);
    if (entry.queuesRuns) await world.agent.waitIdle();
  } else {
    totals.refusals += 1;
    const code = expectedRefusal(persona.signedIn);
    expect(outcome, `${label} is refused: ${result.text.slice(0, 400)}`).toEqual({ ok: false, code });
    if (entry.call.kind === 'route') expect(result.status, label).toBe(HTTP_OF[code]);
    expect(changed, `${label} was refused and must change nothing`).toEqual([]);
    if (entry.call.kind === 'action' && !persona.signedIn) {
      // The proxy turned the visitor away at the page. Posted to the public sign-in page instead,
      // Next forwards the call to the action's page, where the proxy refuses it again (Next then
      // answers an empty `{}`), or the action refuses on its own: either way nothing runs.
      const direct = await world.invoke(entry, persona, input, { page: '/signin' });
      const again = await world.store.digest();
      totals.calls += 1;
      totals.refusals += 1;
      totals.digests += 1;
      expect(direct.status, `${label} via /signin: ${direct.text.slice(0, 300)}`).toBeLessThan(500);
      const forwardRefused = direct.status === 200 && direct.text === '{}' && direct.body === null;
      if (!forwardRefused) expect(outcomeOf(direct), `${label} via /signin: ${direct.status} ${direct.text.slice(0, 300)}`).toEqual({ ok: false, code });
      expect(StoreDigest.changed(after, again), `${label} via /signin must change nothing`).toEqual([]);
    }
  }
}

for (const entry of ENTRY_POINTS.filter((e) => e.scopes.length > 0 && !e.id.startsWith('GET /api/auth'))) {
  test(`${entry.id}: ${entry.who}`, async () => {
    test.setTimeout(300_000);
    for (const scope of entry.scopes) {
      for (const persona of PERSONAS) {
        if (scope === 'own' && !persona.signedIn) continue; // anonymous owns nothing
        await checkCase(entry, persona.name, scope);
      }
    }
  });
}

test('GET /api/auth/[...nextauth]: everyone, and the session it reports is the caller\'s own', async () => {
  for (const p of PERSONAS) {
    const persona = world.personas.get(p.name)!;
    const before = await world.store.digest();
    const res = await persona.api.get('/api/auth/session');
    const after = await world.store.digest();
    totals.calls += 1;
    totals.digests += 2;
    expect(res.status(), p.name).toBe(200);
    const session = (await res.json()) as { user?: { email?: string } };
    if (persona.signedIn) expect(session.user?.email, p.name).toBe(persona.email);
    else expect(session.user, p.name).toBeUndefined();
    expect(JSON.stringify(session)).not.toMatch(/password|hash/i);
    expect(StoreDigest.changed(before, after), p.name).toEqual([]);
  }
});

// The build's actions against the table (the source-tree guard is tests/integration/entry-points-guard.test.ts).
test('every action of the build is in the table of entry points, and every action of the table is in the build', () => {
  const inTable = new Set(ENTRY_POINTS.filter((e) => e.call.kind === 'action').map((e) => e.id));
  expect([...world.manifest.keys()].filter((name) => !inTable.has(name)), 'actions in the build but not in the table').toEqual([]);
  expect([...inTable].filter((name) => !world.manifest.has(name)), 'actions in the table that no page imports').toEqual([]);
});
