/**
 * The world the cross-cutting specs call into: a staging target on a database of its own, one
 * signed-in API context per persona, the store agent that builds records, the store digest,
 * and one `invoke` that calls any row of tests/support/entry-points.ts over HTTP.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { APIRequestContext, PlaywrightWorkerArgs } from '@playwright/test';
import { Client } from 'pg';
import { tarGz } from '../../lib/engine/archive';
import type { CallInput, EntryPoint, Fixtures, Persona, PersonaName, RequestFixture } from '../../tests/support/entry-points';
import { PERSONAS } from '../../tests/support/entry-points';
import { callAction, callRoute, formArgs, loadActionManifest, signInApi, type CallResult, type ManifestAction } from './action-client';
import { BASE_URL, PG_ADMIN_URL } from './env';
import { StoreAgent, StoreDigest } from './store-agent';

export const PROOF_DATABASE = 'cutover_e2e_proof';

export interface SignedPersona extends Persona {
  id: string;
  email?: string;
  api: APIRequestContext;
}

export interface ProofWorld {
  agent: StoreAgent;
  store: StoreDigest;
  fx: Fixtures;
  personas: Map<PersonaName, SignedPersona>;
  otherAuthor: { id: string };
  manifest: Map<string, ManifestAction>;
  /** A request that exists, for the page path server actions are posted to. */
  hostRequestId: string;
  /** Calls a row of the table; actions are posted to their page unless `page` says where. */
  invoke(entry: EntryPoint, persona: SignedPersona, input: CallInput, opts?: { page?: string }): Promise<CallResult>;
  /**
   * Signs out and removes what the spec left on the shared store: requests, runs and targets on
   * the proof database (and on `databases`), and the folders it imported, so that later specs see
   * the targets they expect (the Migrations board counts pending migrations per target).
   */
  close(opts?: { databases?: string[] }): Promise<void>;
}

/** (Re)creates the proof database: an empty database of its own that the matrix target points at. */
async function recreateProofDatabase(): Promise<void> {
  const client = new Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${PROOF_DATABASE}" WITH (FORCE)`);
    await client.query(`CREATE DATABASE "${PROOF_DATABASE}"`);
  } finally {
    await client.end();
  }
}

export async function openProofWorld(playwright: PlaywrightWorkerArgs['playwright'], opts: { personas?: readonly PersonaName[] } = {}): Promise<ProofWorld> {
  await recreateProofDatabase();
  const agent = await StoreAgent.start();
  const store = await StoreDigest.open();
  const server = new URL(PG_ADMIN_URL);
  const targetFields = () => ({
    host: server.hostname, port: server.port || '5432', database: PROOF_DATABASE, username: decodeURIComponent(server.username) || 'postgres',
    password: decodeURIComponent(server.password), sslMode: 'disable', connectTimeoutMs: '3000', lockTimeoutMs: '5000', statementTimeoutMs: '60000',
  });
  const unique = () => randomBytes(5).toString('hex');
  const target = await agent.call<{ id: string; name: string }>({
    op: 'ensureTarget', target: { ...targetFields(), name: 'Proof staging', environment: 'staging' },
  });
  const archive = (tag = unique()) => {
    const migrationName = `20260101000000_proof_${tag}`;
    return {
      migrationName,
      fileName: `proof-${tag}.tar.gz`,
      bytes: tarGz([
        { path: 'prisma/migrations/migration_lock.toml', content: 'provider = "postgresql"\n' },
        { path: `prisma/migrations/${migrationName}/migration.sql`, content: `CREATE TABLE "proof_import_${tag}" ("id" SERIAL PRIMARY KEY);\n` },
      ]),
    };
  };
  const fx: Fixtures = {
    target,
    unique,
    targetFields,
    archive: () => archive(),
    async request({ authorId, through = 0, start, revision, targetId }) {
      const r = await agent.call<RequestFixture>({ op: 'fileRequest', authorId, targetId: targetId ?? target.id, through, start });
      if (revision) {
        const tag = unique();
        await agent.call({ op: 'saveRevision', requestId: r.id, name: `proof_${tag}`, upSql: `CREATE TABLE proof_${tag} (id integer);\n`, downSql: `DROP TABLE proof_${tag};\n` });
      }
      return r;
    },
    queuedRun: ({ requestId, requestedById }) => agent.call({ op: 'queuedRun', requestId, requestedById, kind: 'rehearsal' }),
    backup: ({ requestId, requestedById }) => agent.call({ op: 'backupArtifact', requestId, requestedById }),
    analysedRevision: ({ requestId, requestedById }) => agent.call({ op: 'analysedRevision', requestId, requestedById }),
    freshTarget: () => agent.call({ op: 'ensureTarget', target: { ...targetFields(), name: `Proof target ${unique()}`, environment: 'staging' } }),
    user: () => agent.call({ op: 'createUser', name: 'Proof bystander', roles: ['engineer'] }),
    passingRehearsal: ({ requestId }) => agent.call({ op: 'passingRehearsal', requestId }),
  // ---- issue 8, gate: ops/fixtures go above this line
    apiToken: (opts = {}) => agent.call({ op: 'issueApiToken', role: opts.role }),
  // ---- issue 8, api-tokens: ops/fixtures go above this line
    project: async ({ environments = 0 } = {}) => {
      const targets = [];
      for (let i = 0; i < environments; i++) targets.push((await fx.freshTarget()).id);
      return agent.call({ op: 'proofProject', environmentTargetIds: targets });
    },
    appCodeRequest: ({ authorId, compare }) => agent.call({ op: 'appCodeRequest', authorId, targetId: target.id, compare }),
  // ---- issue 8, projects: ops/fixtures go above this line
    deployableRequest: ({ authorId, approval }) => agent.call({ op: 'deployableRequest', authorId, targetId: target.id, approval }),
    failedDeployment: ({ authorId, requestedById }) => agent.call({ op: 'failedDeployment', authorId, targetId: target.id, requestedById }),
  // ---- issue 8, deploy: ops/fixtures go above this line
    verificationQuery: ({ requestId, createdById }) => agent.call({ op: 'verificationQuery', requestId, createdById }),
    deployedRequest: async ({ authorId }) => {
      const r = await fx.request({ authorId, revision: true });
      return agent.call({ op: 'succeededDeployment', requestId: r.id });
    },
  // ---- issue 8, post-deploy: ops/fixtures go above this line
  // ---- issue 8, board: ops/fixtures go above this line
    agentAccount: (opts = {}) => agent.call({ op: 'agentAccount', agentRoles: opts.agentRoles }),
    async completableTask({ authorId }) {
      const r = await fx.request({ authorId, start: 1 });
      return agent.call({ op: 'satisfyStep', requestId: r.id, position: 1 });
    },
  // ---- issue 9, agents: ops/fixtures go above this line
    async folder() {
      const a = archive();
      const f = await agent.call<{ id: string }>({ op: 'importFolder', fileName: a.fileName, base64: a.bytes.toString('base64') });
      return { id: f.id, migrationName: a.migrationName };
    },
  };

  const personas = new Map<PersonaName, SignedPersona>();
  for (const p of PERSONAS.filter((x) => !opts.personas || opts.personas.includes(x.name))) {
    const api = await playwright.request.newContext({ baseURL: BASE_URL });
    if (!p.signedIn) {
      personas.set(p.name, { ...p, id: randomUUID(), api });
      continue;
    }
    const user = await agent.call<{ id: string; email: string; password: string }>({ op: 'createUser', name: `Proof ${p.name}`, roles: p.roles, agentRoles: p.agentRoles });
    await signInApi(api, user);
    personas.set(p.name, { ...p, id: user.id, email: user.email, api });
  }
  const otherAuthor = await agent.call<{ id: string }>({ op: 'createUser', name: 'Proof other author', roles: ['engineer'] });
  const hostRequestId = (await fx.request({ authorId: otherAuthor.id })).id;
  const manifest = loadActionManifest();

  async function invoke(entry: EntryPoint, persona: SignedPersona, input: CallInput, opts: { page?: string } = {}): Promise<CallResult> {
    const call = entry.call;
    if (call.kind === 'action') {
      const action = manifest.get(call.name);
      if (!action) throw new Error(`${call.name} is not in the build's server-reference manifest: no page imports it, so nothing can call it`);
      // A form action whose "form" is not an object gets that value as its FormData argument (fuzzing).
      const raw: unknown = input.input;
      const isObject = raw !== null && typeof raw === 'object' && !Array.isArray(raw);
      const args = call.args === 'form' ? (isObject ? formArgs(raw as Record<string, unknown>) : [undefined, raw]) : [raw];
      return callAction(persona.api, action, args, { page: opts.page ?? action.page.replace(/\[[^\]]+\]/g, hostRequestId) });
    }
    const url = call.path.replace(':id', encodeURIComponent(input.id ?? '')) + (input.query ? `?${new URLSearchParams(input.query)}` : '');
    return callRoute(persona.api, call.method, url, input.body);
  }

  return {
    agent, store, fx, personas, otherAuthor, manifest, hostRequestId, invoke,
    async close({ databases = [] } = {}) {
      for (const p of personas.values()) await p.api.dispose();
      await agent.waitIdle().catch(() => undefined);
      const dbs = [PROOF_DATABASE, ...databases];
      await store.db.query('DELETE FROM migration_requests WHERE target_id IN (SELECT id FROM target_databases WHERE database = ANY($1))', [dbs]);
      // Proof projects (post-deploy's deployed requests) hold environments on these targets.
      await store.db.query(`DELETE FROM migration_requests WHERE project_id IN (SELECT id FROM projects WHERE name LIKE 'Proof project %')`);
      await store.db.query(`DELETE FROM projects WHERE name LIKE 'Proof project %'`);
      await store.db.query('DELETE FROM target_databases WHERE database = ANY($1)', [dbs]);
      await store.db.query(`DELETE FROM migration_folders WHERE name LIKE 'proof-%.tar.gz'`);
      await agent.stop();
      await store.close();
    },
  };
}
