import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import fc from 'fast-check';
import { ENTRY_POINTS, PERSONAS, type CallInput, type EntryPoint } from '../tests/support/entry-points';
import { outcomeOf } from './support/action-client';
import { PROOF_DATABASE, openProofWorld, type ProofWorld, type SignedPersona } from './support/proof-fixtures';
import { StoreDigest } from './support/store-agent';

// Fuzzing every action's and API route's input over HTTP (fast-check, fixed seed): wrong types,
// missing and extra fields, huge strings, unicode, SQL and HTML fragments, unknown and foreign
// ids. Never a 5xx or an unhandled error; a refused call writes nothing; unknown and foreign ids
// and inputs of the wrong type are always refused.

// Not serial: a failing entry point must not hide the others (a new worker repeats beforeAll).

const SEED = 20261126;
const RUNS = Number(process.env.CUTOVER_FUZZ_RUNS ?? 32);
const SERVER_LOG = path.resolve(__dirname, '../.data-e2e/server.log');

let world: ProofWorld;
const totals = { calls: 0, refused: 0, accepted: 0, mustRefuse: 0, bytesSent: 0 };
let logOffset = 0;
let fuzzStart = new Date();

const SQL_HTML = [
  "'; DROP TABLE users; --", '" OR 1=1 --', "1' UNION SELECT password_hash FROM users --", '$1', '\\x00', '\u0000', 'a\u0000b',
  '<script>alert(1)</script>', '<img src=x onerror=alert(1)>', '"><svg onload=alert(1)>', '../../etc/passwd', '%00', '%s%s%n',
  '{{7*7}}', '${7*7}', '\r\nX-Injected: 1', '\u202eevil', '𝕌𝕟𝕚𝕔𝕠𝕕𝕖 ✓ 日本語 🚀', '\ud800', 'e\u0301'.repeat(50), ' ', '',
  'null', 'undefined', 'true', '-1', '1e309', 'NaN', '[object Object]', '__proto__', 'constructor',
];

const nastyString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(...SQL_HTML),
  // Huge strings: past every field's limit, and past the 1 MB SQL limit (below the 11 MB body cap).
  fc.constantFrom(5_001, 10_001, 300_000, 1_100_000).map((n) => 'x'.repeat(n)),
  fc.constant('€'.repeat(350_000)),
);

const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: nastyString },
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.uuid(),
  fc.bigInt(),
  fc.date({ noInvalidDate: true }),
  fc.array(nastyString, { maxLength: 3 }),
  // Spread: a plain object (fast-check's have no prototype, which server-action arguments refuse).
  fc.dictionary(fc.string({ maxLength: 8 }), nastyString, { maxKeys: 3 }).map((d) => ({ ...d })),
  fc.constant(JSON.parse('{"__proto__": {"admin": true}, "constructor": {"prototype": {"isAdmin": true}}}') as unknown),
);

/** What kind of record an id field names, to pick ids of another kind ("foreign") for it. */
const ID_KIND: Record<string, string> = {
  requestId: 'request', taskId: 'task', itemId: 'item', gateItemId: 'gate', folderId: 'folder', targetId: 'target', userId: 'user', id: 'target',
};
const ROUTE_ID_KIND: Record<string, string> = {
  'GET /api/v1/requests/:id': 'request', 'GET /api/v1/requests/:id/migration': 'request',
  'POST /api/v1/tasks/:id/transitions': 'task', 'POST /api/v1/gate-items/:id/signatures': 'gate',
};
let foreign: Record<string, string> = {};
const foreignFor = (kind: string) => fc.constantFrom(...Object.entries(foreign).filter(([k]) => k !== kind).map(([, v]) => v));
const isUuid = (v: unknown) => typeof v === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v);

/** A case as fast-check prints it on failure: what was changed, and the input cut short. */
function fuzzCase(call: CallInput, mustRefuse: boolean, what: string): FuzzCase {
  const shown = JSON.stringify(call, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Blob ? `<blob ${v.size} bytes>` : typeof v === 'string' && v.length > 80 ? `${v.slice(0, 40)}…(${v.length} chars)` : v));
  return Object.assign({ call, mustRefuse, what }, { [fc.toStringMethod]: () => `${what}${mustRefuse ? ' (must be refused)' : ''}: ${shown}` });
}

interface FuzzCase {
  call: CallInput;
  /** Wrong whole type, or an id replaced by an unknown, foreign or malformed one: must be refused. */
  mustRefuse: boolean;
  what: string;
}

/** An id field: kept, or replaced by an unknown uuid, a foreign id, or garbage (the last three must be refused). */
function idArb(kind: string, base: string): fc.Arbitrary<{ v: unknown; changed: boolean; what: string }> {
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant({ v: base, changed: false, what: 'id kept' }) },
    fc.uuid().map((v) => ({ v, changed: true, what: 'unknown id' })),
    foreignFor(kind).map((v) => ({ v, changed: true, what: 'foreign id' })),
    nastyValue.filter((v) => !isUuid(v)).map((v) => ({ v, changed: true, what: 'malformed id' })),
  );
}

/** Field-by-field edits of a valid input: keep, drop or replace each field, and add extra ones. */
function objectArb(base: Record<string, unknown>, form: boolean): fc.Arbitrary<{ v: Record<string, unknown>; idChanged: boolean; what: string[] }> {
  const toForm = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(toForm) : v === undefined || v === null ? undefined : typeof v === 'string' || v instanceof Blob ? v : typeof v === 'object' ? JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x)) : String(v);
  const fields = Object.fromEntries(
    Object.entries(base).map(([key, value]) => {
      const arb =
        key in ID_KIND && isUuid(value)
          ? idArb(ID_KIND[key], value as string).map((x) => ({ v: x.v, idChanged: x.changed, what: x.changed ? `${key}: ${x.what}` : '' }))
          : fc.oneof(
              { weight: 2, arbitrary: fc.constant({ v: value, idChanged: false, what: '' }) },
              fc.constant({ v: undefined, idChanged: false, what: `${key} dropped` }),
              nastyValue.map((v) => ({ v, idChanged: false, what: `${key} replaced` })),
            );
      return [key, arb];
    }),
  );
  return fc
    .tuple(fc.record(fields), fc.dictionary(fc.constantFrom('admin', 'roles', 'authorId', 'id', 'status', '__proto__', 'extra', '$ACTION_ID_x'), nastyValue, { maxKeys: 2 }))
    .map(([edited, extra]) => {
      const v: Record<string, unknown> = {};
      const what: string[] = [];
      let idChanged = false;
      for (const [key, r] of Object.entries(edited as Record<string, { v: unknown; idChanged: boolean; what: string }>)) {
        if (r.v !== undefined) v[key] = form ? toForm(r.v) : r.v;
        if (r.what) what.push(r.what);
        idChanged ||= r.idChanged;
      }
      for (const [key, x] of Object.entries(extra)) {
        if (Object.prototype.hasOwnProperty.call(v, key)) continue;
        // defineProperty: an own "__proto__" key, as a crafted JSON body has it.
        Object.defineProperty(v, key, { value: form ? toForm(x) : x, enumerable: true, writable: true, configurable: true });
        what.push(`extra ${key}`);
      }
      return { v, idChanged, what };
    });
}

function caseArb(entry: EntryPoint, base: CallInput): fc.Arbitrary<FuzzCase> {
  const wrongType = fc.constantFrom<unknown>(null, 42, 'text', [], true, [1, 2], '{}').map(
    (v): FuzzCase => fuzzCase({ ...base, input: v as Record<string, unknown>, body: v }, true, `wrong type ${JSON.stringify(v)}`),
  );
  if (entry.call.kind === 'action') {
    const form = entry.call.args === 'form';
    const edits = objectArb(base.input ?? {}, form).map(
      (e): FuzzCase => fuzzCase({ input: e.v }, e.idChanged, e.what.join(', ') || 'valid input'),
    );
    return fc.oneof({ weight: 1, arbitrary: wrongType }, { weight: 5, arbitrary: edits });
  }
  // Routes: the path id, the query and the JSON body.
  const idKind = ROUTE_ID_KIND[entry.id];
  const idPart = base.id && idKind
    ? idArb(idKind, base.id).map((x) => ({ id: typeof x.v === 'string' ? x.v : String(x.v), changed: x.changed, what: x.changed ? `path ${x.what}` : '' }))
    : fc.constant({ id: base.id, changed: false, what: '' });
  const query = base.query ? objectArb(base.query, true).map((e) => ({ q: e.v as Record<string, string>, what: e.what })) : fc.constant({ q: undefined, what: '' });
  const body = base.body !== undefined
    ? fc.oneof(
        { weight: 4, arbitrary: objectArb(base.body as Record<string, unknown>, false).map((e) => ({ b: e.v as unknown, what: e.what.join(', ') })) },
        fc.constantFrom<unknown>(null, 42, 'text', [], true).map((b) => ({ b, what: `body ${JSON.stringify(b)}` })),
      )
    : fc.constant({ b: undefined as unknown, what: '' });
  return fc.tuple(idPart, query, body).map(([i, q, b]): FuzzCase =>
    fuzzCase({ id: i.id, query: q.q, body: b.b }, i.changed, [i.what, ...(Array.isArray(q.what) ? q.what : []), b.what].filter(Boolean).join(', ') || 'valid input'),
  );
}

/** Someone who may call the entry point (admin where admin may), so input reaches the service. */
function callerFor(entry: EntryPoint): SignedPersona {
  const p = PERSONAS.find((x) => x.name === 'admin' && entry.may(x, 'other')) ?? PERSONAS.find((x) => x.signedIn && entry.may(x, 'other'))!;
  return world.personas.get(p.name)!;
}

function serverLogSince(offset: number): string {
  try {
    return readFileSync(SERVER_LOG).subarray(offset).toString('utf8');
  } catch {
    return '';
  }
}

test.beforeAll(async ({ playwright }) => {
  test.setTimeout(180_000);
  world = await openProofWorld(playwright, { personas: ['admin', 'reviewer', 'engineer', 'lead'] });
  const r = await world.fx.request({ authorId: world.otherAuthor.id, through: 6 });
  const folder = await world.fx.folder();
  foreign = {
    request: r.id, task: r.tasks[1].id, item: r.tasks[0].checklist[0], gate: r.gateItems[0], folder: folder.id,
    target: world.fx.target.id, user: world.otherAuthor.id,
  };
  fuzzStart = new Date();
  try {
    logOffset = statSync(SERVER_LOG).size;
  } catch {
    logOffset = 0;
  }
});

// Targets that fuzzed input happened to register (random hosts, long connect timeouts) would slow
// every later "check all targets": removed after each entry point.
test.afterEach(async () => {
  await world?.store.db.query(
    `DELETE FROM target_databases t WHERE t.created_at >= $1 AND t.database <> $2
       AND NOT EXISTS (SELECT 1 FROM migration_requests r WHERE r.target_id = t.id) AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.target_id = t.id)`,
    [fuzzStart, PROOF_DATABASE],
  );
});

test.afterAll(async () => {
  // Fuzzed input that happened to be valid may have changed the app-wide extension allow list: back to the defaults.
  const fence = ENTRY_POINTS.find((e) => e.id === 'updateFenceSettingsAction');
  if (world && fence) await world.invoke(fence, world.personas.get('admin')!, { input: { allowedExtensions: '', reset: 'on' } });

  console.log(
    `[fuzz] seed ${SEED}, ${RUNS} runs per entry point: ${totals.calls} calls, ${totals.refused} refused (store unchanged each time), ` +
      `${totals.accepted} accepted, ${totals.mustRefuse} of them inputs that had to be refused; ${(totals.bytesSent / 1e6).toFixed(1)} MB of input sent`,
  );
  await world?.close();
});

for (const entry of ENTRY_POINTS.filter((e) => !e.noFuzz)) {
  test(`fuzz ${entry.id}`, async () => {
    test.setTimeout(120_000);
    const caller = callerFor(entry);
    const base = await entry.prepare(world.fx, { persona: caller, selfId: caller.id, otherId: world.otherAuthor.id, scope: entry.scopes[0] === 'own' ? 'other' : entry.scopes[0] ?? 'global' });
    let calls = 0;
    await fc.assert(
      fc.asyncProperty(caseArb(entry, base), async (c) => {
        if (entry.queuesRuns) await world.agent.waitIdle();
        const before = await world.store.digest();
        const result = await world.invoke(entry, caller, c.call);
        const after = await world.store.digest();
        calls += 1;
        totals.calls += 1;
        totals.bytesSent += JSON.stringify(c.call, (_k, v) => (typeof v === 'bigint' ? String(v) : v instanceof Blob ? `blob:${v.size}` : v))?.length ?? 0;
        const outcome = outcomeOf(result);
        const label = `${entry.id} with ${c.what}`;
        expect(result.status, `${label}: no server error; answered ${result.text.slice(0, 300)}`).toBeLessThan(500);
        expect(outcome.code, `${label}: no unhandled error`).not.toBe('server_error');
        if (outcome.ok) {
          totals.accepted += 1;
          expect(c.mustRefuse, `${label} must be refused, but was accepted: ${result.text.slice(0, 300)}`).toBe(false);
        } else {
          totals.refused += 1;
          if (c.mustRefuse) totals.mustRefuse += 1;
          expect(StoreDigest.changed(before, after), `${label} was refused (${outcome.code}) and must write nothing`).toEqual([]);
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    expect(calls).toBe(RUNS);
    // Nothing the fuzzer sent made the server log an unexpected failure.
    const log = serverLogSince(logOffset);
    logOffset += Buffer.byteLength(log);
    expect(log.split('\n').filter((l) => /action failed|Unhandled|uncaught|⨯|TypeError|ReferenceError/i.test(l)), `server log while fuzzing ${entry.id}`).toEqual([]);
  });
}
