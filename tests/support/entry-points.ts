/**
 * Every way into Cutover from outside: each server action (exports ending in `Action` in
 * lib/actions) and each API route method (app/api/**\/route.ts), with how to call it, a valid
 * input and who may call it. The authorization matrix (e2e/authorization-matrix.spec.ts) and the
 * fuzzer (e2e/fuzz-entry-points.spec.ts) are generated from this one table, and
 * tests/integration/entry-points-guard.test.ts fails when the source has an entry point that
 * is not listed here, so a new action cannot be forgotten.
 */
import { AGENT_ROLES, ROLES, type AgentRole, type Role } from '../../lib/domain/roles';

export type PersonaName = 'anonymous' | 'no-role' | Role | AgentRole;

export interface Persona {
  name: PersonaName;
  signedIn: boolean;
  roles: Role[];
  agentRoles: AgentRole[];
}

/** Everyone the matrix calls as: no session, an account with no role, each role, each agent role (alone). */
export const PERSONAS: Persona[] = [
  { name: 'anonymous', signedIn: false, roles: [], agentRoles: [] },
  { name: 'no-role', signedIn: true, roles: [], agentRoles: [] },
  ...ROLES.map((r): Persona => ({ name: r, signedIn: true, roles: [r], agentRoles: [] })),
  ...AGENT_ROLES.map((r): Persona => ({ name: r, signedIn: true, roles: [], agentRoles: [r] })),
];

/** Whose record the call is about: the caller's own, someone else's, or no one's (global entry points). */
export type Scope = 'own' | 'other' | 'global';

export type RefusalCode = 'unauthenticated' | 'forbidden' | 'not_found';

export const HTTP_OF: Record<RefusalCode | 'invalid' | 'conflict', number> = {
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  invalid: 400,
  conflict: 409,
};

export type CallSpec =
  /** A server action: `json` takes one argument (the input), `form` is `(prevState, FormData)`. */
  | { kind: 'action'; file: string; name: string; args: 'json' | 'form' }
  /** An API route method; `path` with `:id` for the dynamic segment. */
  | { kind: 'route'; file: string; method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'; path: string };

/** What a call sends: an action's input (fields of the form for form actions), or a route's path, query and body. */
export interface CallInput {
  input?: Record<string, unknown>;
  id?: string;
  query?: Record<string, string>;
  body?: unknown;
}

export interface RequestFixture {
  id: string;
  number: number;
  tasks: { id: string; position: number; status: string; checklist: string[] }[];
  gateItems: string[];
}

/** What a valid-input builder may ask for; the e2e side builds them through the real services. */
export interface Fixtures {
  /** The staging target the matrix works on (a database of its own on the test server). */
  target: { id: string; name: string };
  /** A fresh request on that target credited to `authorId`, steps 1..through completed, optionally step `start` started and a revision saved. */
  request(opts: { authorId: string; through?: number; start?: number; revision?: boolean; targetId?: string }): Promise<RequestFixture>;
  /** A fresh target on the matrix database. */
  freshTarget(): Promise<{ id: string; name: string }>;
  /** A fresh person (engineer). */
  user(): Promise<{ id: string }>;
  /** A freshly imported migrations folder with one pending migration. */
  folder(): Promise<{ id: string; migrationName: string }>;
  /** A small valid Prisma migrations archive. */
  archive(): { fileName: string; bytes: Buffer };
  /** A queued rehearsal of `requestId` that no worker will take (it waits to be cancelled). */
  queuedRun(opts: { requestId: string; requestedById: string }): Promise<{ id: string }>;
  /** A finished backup of the request's target (its run, a file in the artifact store and its Artifact row, checksums of one table). */
  backup(opts: { requestId: string; requestedById: string }): Promise<{ artifactId: string }>;
  /** A finished analysis of the request's latest revision (it must have one) that found one destructive operation. */
  analysedRevision(opts: { requestId: string; requestedById: string }): Promise<{ operationKey: string }>;
  /** A unique lower-case tag. */
  unique(): string;
  /** The matrix target's connection settings, as the target form takes them. */
  targetFields(): Record<string, string>;
  /** A passing rehearsal record of the request's latest revision (applying beyond local needs one; issue 8, gate). */
  passingRehearsal(opts: { requestId: string }): Promise<unknown>;
  // ---- issue 8, gate: fixtures go above this line
  /** A freshly issued API token (test-automator unless `role` says otherwise): its id and its secret. */
  apiToken(opts?: { role?: string }): Promise<{ id: string; secret: string }>;
  // ---- issue 8, api-tokens: fixtures go above this line
  /** A fresh project ("Proof project ...") with an environment on each of `environments` fresh targets, in order. */
  project(opts?: { environments?: number }): Promise<{ id: string; environmentIds: string[] }>;
  /** A request credited to `authorId` with a project on a local git repository, app branch feature/proof, a revision and a passing rehearsal; `compare`: compared once (one difference, open). */
  appCodeRequest(opts: { authorId: string; compare?: boolean }): Promise<{ requestId: string; evidenceId?: string; key?: string }>;
  // ---- issue 8, projects: fixtures go above this line
  /** A request credited to `authorId` with a project whose one environment is the matrix target, a revision and a passing rehearsal; `approval`: that environment requires approval and the gate is passed. */
  deployableRequest(opts: { authorId: string; approval?: boolean }): Promise<{ requestId: string; environmentId: string }>;
  /** A deploy of such a request that failed after applying (its recovery is offered). */
  failedDeployment(opts: { authorId: string; requestedById: string }): Promise<{ requestId: string; deploymentId: string }>;
  // ---- issue 8, deploy: fixtures go above this line
  /** A verification query on the request (Post-deployment), written by `createdById`. */
  verificationQuery(opts: { requestId: string; createdById: string }): Promise<{ id: string }>;
  /** A fresh request credited to `authorId` whose revision is deployed (succeeded) to a one-environment proof project on the matrix target. */
  deployedRequest(opts: { authorId: string }): Promise<{ id: string; deploymentId: string }>;
  // ---- issue 8, post-deploy: fixtures go above this line
  // ---- issue 8, board: fixtures go above this line
  /** A fresh agent account (owned by the admin, database-optimizer unless `agentRoles` says otherwise) with one token. */
  agentAccount(opts?: { agentRoles?: AgentRole[] }): Promise<{ id: string; tokenId: string }>;
  /** A fresh request credited to `authorId` whose first step (Analysis) is started with its evidence recorded: it can be completed. */
  completableTask(opts: { authorId: string }): Promise<{ taskId: string }>;
  // ---- issue 9, agents: fixtures go above this line
}

export interface PrepareContext {
  persona: Persona;
  /** The caller's user id (an unrelated id for anonymous). */
  selfId: string;
  /** The author of "other" records. */
  otherId: string;
  scope: Scope;
}

export interface EntryPoint {
  /** `<exportedName>` for actions, `<METHOD> <path>` for routes. */
  id: string;
  call: CallSpec;
  scopes: readonly Scope[];
  /** Who may call it, in words (the report's table). */
  who: string;
  may: (p: Persona, scope: Scope) => boolean;
  /** Does an allowed call change the store? Reads must not; writes must (so the digest check can fail). */
  writes: boolean;
  /** Runs queued by an allowed call (the spec waits for the worker before the next digest). */
  queuesRuns?: boolean;
  /** Not fuzzed (the sign-in endpoint: fuzzing it would trip the per-address rate limit other specs rely on). */
  noFuzz?: boolean;
  prepare: (fx: Fixtures, ctx: PrepareContext) => Promise<CallInput>;
}

const has = (p: Persona, role: Role | AgentRole) => (p.roles as string[]).includes(role) || (p.agentRoles as string[]).includes(role);
const admin = (p: Persona) => has(p, 'admin');
const anyRole = (p: Persona) => p.signedIn && p.roles.length + p.agentRoles.length > 0;
const canFile = (p: Persona) => has(p, 'engineer') || has(p, 'lead') || admin(p);
const analysis = (p: Persona) => admin(p) || has(p, 'database-optimizer') || has(p, 'postgres-pro');
const dba = (p: Persona) => admin(p) || has(p, 'database-administrator');
const migrationsDesk = (p: Persona) => admin(p) || has(p, 'lead') || has(p, 'database-administrator');
/** Update app code: its holders (language-specialist) and admins. */
const appCode = (p: Persona) => admin(p) || has(p, 'language-specialist');
const postDeploy = (p: Persona) => admin(p) || has(p, 'database-administrator') || has(p, 'postgres-pro');
/** Post-deployment's notes and queries: its holders, leads, admins, and the request's author when they hold any role. */
const postDeployWriter = (p: Persona, scope: Scope) => postDeploy(p) || has(p, 'lead') || (scope === 'own' && p.signedIn && p.roles.length + p.agentRoles.length > 0);

const RECORD: readonly Scope[] = ['own', 'other'];
const GLOBAL: readonly Scope[] = ['global'];
const authorOf = (ctx: PrepareContext) => (ctx.scope === 'own' ? ctx.selfId : ctx.otherId);

const migrationSql = (tag: string) => ({
  name: `proof_${tag}`,
  upSql: `CREATE TABLE proof_${tag} (id integer PRIMARY KEY);\n`,
  downSql: `DROP TABLE proof_${tag};\n`,
});

export const ENTRY_POINTS: EntryPoint[] = [
  // ---- issue 8, gate: entries go above this line
  // ---- lib/actions/token-actions.ts (Admin > API tokens)
  {
    id: 'issueApiTokenAction',
    call: { kind: 'action', file: 'lib/actions/token-actions.ts', name: 'issueApiTokenAction', args: 'form' },
    scopes: GLOBAL, who: 'admin', may: admin, writes: true,
    prepare: async (fx) => ({ input: { name: `Proof CI ${fx.unique()}`, role: 'test-automator', expiresInDays: '30' } }),
  },
  {
    id: 'revokeApiTokenAction',
    call: { kind: 'action', file: 'lib/actions/token-actions.ts', name: 'revokeApiTokenAction', args: 'json' },
    scopes: GLOBAL, who: 'admin', may: admin, writes: true,
    prepare: async (fx) => ({ input: { tokenId: (await fx.apiToken()).id } }),
  },
  // ---- lib/actions/test-report-actions.ts (Test app with new schema: test-automator, or admin)
  {
    id: 'attachTestReportAction',
    call: { kind: 'action', file: 'lib/actions/test-report-actions.ts', name: 'attachTestReportAction', args: 'form' },
    scopes: RECORD, who: 'admin, test-automator (Test app with new schema)', may: (p) => admin(p) || has(p, 'test-automator'), writes: true,
    prepare: async (fx, ctx) => ({
      input: { requestId: (await fx.request({ authorId: authorOf(ctx), revision: true })).id, report: '<testsuite><testcase name="proof"/></testsuite>' },
    }),
  },
  // ---- the CI routes (issue 8, item 11): with a bearer token or the session cookie
  {
    id: 'GET /api/v1/requests/:id/status',
    call: { kind: 'route', file: 'app/api/v1/requests/[id]/status/route.ts', method: 'GET', path: '/api/v1/requests/:id/status' },
    scopes: RECORD, who: 'anyone who holds a role', may: anyRole, writes: false,
    prepare: async (fx, ctx) => ({ id: (await fx.request({ authorId: authorOf(ctx) })).id }),
  },
  {
    id: 'GET /api/v1/requests/:id/gate',
    call: { kind: 'route', file: 'app/api/v1/requests/[id]/gate/route.ts', method: 'GET', path: '/api/v1/requests/:id/gate' },
    scopes: RECORD, who: 'anyone who holds a role', may: anyRole, writes: false,
    prepare: async (fx, ctx) => ({ id: (await fx.request({ authorId: authorOf(ctx) })).id }),
  },
  {
    id: 'GET /api/v1/requests/:id/test-reports',
    call: { kind: 'route', file: 'app/api/v1/requests/[id]/test-reports/route.ts', method: 'GET', path: '/api/v1/requests/:id/test-reports' },
    scopes: RECORD, who: 'anyone who holds a role', may: anyRole, writes: false,
    prepare: async (fx, ctx) => ({ id: (await fx.request({ authorId: authorOf(ctx) })).id }),
  },
  {
    id: 'POST /api/v1/requests/:id/test-reports',
    call: { kind: 'route', file: 'app/api/v1/requests/[id]/test-reports/route.ts', method: 'POST', path: '/api/v1/requests/:id/test-reports' },
    scopes: RECORD, who: 'admin, test-automator (Test app with new schema)', may: (p) => admin(p) || has(p, 'test-automator'), writes: true,
    prepare: async (fx, ctx) => ({ id: (await fx.request({ authorId: authorOf(ctx), revision: true })).id, body: { tests: 3, failures: 0, skipped: 1 } }),
  },
  {
    id: 'GET /api/v1/runs/:id',
    call: { kind: 'route', file: 'app/api/v1/runs/[id]/route.ts', method: 'GET', path: '/api/v1/runs/:id' },
    scopes: RECORD, who: 'anyone who holds a role (addresses redacted unless they manage targets)', may: anyRole, writes: false,
    prepare: async (fx, ctx) => {
      const request = await fx.request({ authorId: authorOf(ctx) });
      return { id: (await fx.queuedRun({ requestId: request.id, requestedById: authorOf(ctx) })).id };
    },
  },
  // ---- issue 8, api-tokens: entries go above this line
  // ---- lib/actions/project-actions.ts (Admin > Projects; a request's project and app branch)
  {
    id: 'createProjectAction',
    call: { kind: 'action', file: 'lib/actions/project-actions.ts', name: 'createProjectAction', args: 'form' },
    scopes: GLOBAL, who: 'admin', may: admin, writes: true,
    prepare: async (fx) => ({ input: { name: `Proof project ${fx.unique()}`, repositoryUrl: '/nonexistent/proof-app.git', deployBranch: 'main', schemaPath: 'prisma/schema.prisma', repositoryCredential: 'proof-token' } }),
  },
  {
    id: 'updateProjectAction',
    call: { kind: 'action', file: 'lib/actions/project-actions.ts', name: 'updateProjectAction', args: 'form' },
    scopes: GLOBAL, who: 'admin', may: admin, writes: true,
    prepare: async (fx) => ({ input: { id: (await fx.project()).id, name: `Proof project ${fx.unique()}`, repositoryUrl: 'https://git.example.com/proof/app.git', deployBranch: 'master', minGateReviewers: '3' } }),
  },
  {
    id: 'deleteProjectAction',
    call: { kind: 'action', file: 'lib/actions/project-actions.ts', name: 'deleteProjectAction', args: 'json' },
    scopes: GLOBAL, who: 'admin', may: admin, writes: true,
    prepare: async (fx) => ({ input: { id: (await fx.project({ environments: 1 })).id } }),
  },
  {
    id: 'addEnvironmentAction',
    call: { kind: 'action', file: 'lib/actions/project-actions.ts', name: 'addEnvironmentAction', args: 'form' },
    scopes: GLOBAL, who: 'admin', may: admin, writes: true,
    prepare: async (fx) => ({ input: { projectId: (await fx.project()).id, name: 'staging', targetId: (await fx.freshTarget()).id, healthCheckUrl: 'http://127.0.0.1:9/health' } }),
  },
  {
    id: 'updateEnvironmentAction',
    call: { kind: 'action', file: 'lib/actions/project-actions.ts', name: 'updateEnvironmentAction', args: 'form' },
    scopes: GLOBAL, who: 'admin', may: admin, writes: true,
    prepare: async (fx) => ({ input: { id: (await fx.project({ environments: 1 })).environmentIds[0], name: 'production', targetId: (await fx.freshTarget()).id, requiresApproval: 'on' } }),
  },
  {
    id: 'moveEnvironmentAction',
    call: { kind: 'action', file: 'lib/actions/project-actions.ts', name: 'moveEnvironmentAction', args: 'json' },
    scopes: GLOBAL, who: 'admin', may: admin, writes: true,
    prepare: async (fx) => ({ input: { id: (await fx.project({ environments: 2 })).environmentIds[1], direction: 'up' } }),
  },
  {
    id: 'removeEnvironmentAction',
    call: { kind: 'action', file: 'lib/actions/project-actions.ts', name: 'removeEnvironmentAction', args: 'json' },
    scopes: GLOBAL, who: 'admin', may: admin, writes: true,
    prepare: async (fx) => ({ input: { id: (await fx.project({ environments: 1 })).environmentIds[0] } }),
  },
  {
    id: 'setRequestProjectAction',
    call: { kind: 'action', file: 'lib/actions/project-actions.ts', name: 'setRequestProjectAction', args: 'form' },
    scopes: RECORD, who: 'admin, language-specialist (Update app code), the author', may: (p, scope) => appCode(p) || (scope === 'own' && anyRole(p)), writes: true,
    prepare: async (fx, ctx) => ({ input: { requestId: (await fx.request({ authorId: authorOf(ctx) })).id, projectId: (await fx.project()).id, appBranch: 'feature/proof' } }),
  },
  // ---- lib/actions/app-schema-actions.ts (Update app code: language-specialist, or admin)
  {
    id: 'compareAppSchemaAction',
    call: { kind: 'action', file: 'lib/actions/app-schema-actions.ts', name: 'compareAppSchemaAction', args: 'json' },
    scopes: RECORD, who: 'admin, language-specialist (Update app code)', may: appCode, writes: true,
    prepare: async (fx, ctx) => ({ input: { requestId: (await fx.appCodeRequest({ authorId: authorOf(ctx) })).requestId } }),
  },
  {
    id: 'intendDifferencesAction',
    call: { kind: 'action', file: 'lib/actions/app-schema-actions.ts', name: 'intendDifferencesAction', args: 'form' },
    scopes: RECORD, who: 'admin, language-specialist (Update app code)', may: appCode, writes: true,
    prepare: async (fx, ctx) => {
      const r = await fx.appCodeRequest({ authorId: authorOf(ctx), compare: true });
      return { input: { requestId: r.requestId, evidenceId: r.evidenceId, keys: [r.key], note: 'The app adds the key in its next release.' } };
    },
  },
  // ---- issue 8, projects: entries go above this line
  // ---- lib/actions/deploy-actions.ts
  {
    id: 'requestDeployAction',
    call: { kind: 'action', file: 'lib/actions/deploy-actions.ts', name: 'requestDeployAction', args: 'json' },
    scopes: RECORD, who: 'admin, database-administrator (the Deploy step)', may: dba, writes: true, queuesRuns: true,
    prepare: async (fx, ctx) => ({ input: await fx.deployableRequest({ authorId: authorOf(ctx) }) }),
  },
  {
    id: 'approveDeploymentAction',
    call: { kind: 'action', file: 'lib/actions/deploy-actions.ts', name: 'approveDeploymentAction', args: 'json' },
    // A lead approves; never the request's own author.
    scopes: RECORD, who: 'lead, not the author', may: (p, scope) => has(p, 'lead') && scope === 'other', writes: true,
    prepare: async (fx, ctx) => ({ input: { ...(await fx.deployableRequest({ authorId: authorOf(ctx), approval: true })), note: 'Approved by the matrix.' } }),
  },
  {
    id: 'recoverDeploymentAction',
    call: { kind: 'action', file: 'lib/actions/deploy-actions.ts', name: 'recoverDeploymentAction', args: 'json' },
    scopes: RECORD, who: 'admin, database-administrator (the Deploy step)', may: dba, writes: true, queuesRuns: true,
    prepare: async (fx, ctx) => {
      const { deploymentId } = await fx.failedDeployment({ authorId: authorOf(ctx), requestedById: ctx.otherId });
      return { input: { deploymentId, recovery: 'down', confirm: true } };
    },
  },
  // ---- issue 8, deploy: entries go above this line
  // ---- lib/actions/post-deploy-actions.ts (Post-deployment: its holders, the author, leads and admins write; its holders run checks)
  {
    id: 'addVerificationQueryAction',
    call: { kind: 'action', file: 'lib/actions/post-deploy-actions.ts', name: 'addVerificationQueryAction', args: 'json' },
    scopes: RECORD, who: 'admin, database-administrator, postgres-pro (Post-deployment)', may: (p) => postDeploy(p), writes: true,
    prepare: async (fx, ctx) => ({
      input: { requestId: (await fx.request({ authorId: authorOf(ctx) })).id, name: `Proof check ${fx.unique()}`, kind: 'no_rows', sql: 'SELECT 1 WHERE false' },
    }),
  },
  {
    id: 'archiveVerificationQueryAction',
    call: { kind: 'action', file: 'lib/actions/post-deploy-actions.ts', name: 'archiveVerificationQueryAction', args: 'json' },
    scopes: RECORD, who: 'admin, database-administrator, postgres-pro (Post-deployment)', may: (p) => postDeploy(p), writes: true,
    prepare: async (fx, ctx) => {
      const request = await fx.request({ authorId: authorOf(ctx) });
      return { input: { queryId: (await fx.verificationQuery({ requestId: request.id, createdById: authorOf(ctx) })).id } };
    },
  },
  {
    id: 'documentIssuesAction',
    call: { kind: 'action', file: 'lib/actions/post-deploy-actions.ts', name: 'documentIssuesAction', args: 'json' },
    scopes: RECORD, who: 'admin, lead, database-administrator, postgres-pro (Post-deployment), the author', may: postDeployWriter, writes: true,
    prepare: async (fx, ctx) => ({ input: { requestId: (await fx.request({ authorId: authorOf(ctx) })).id, body: `Proof: no issues (${fx.unique()}).` } }),
  },
  {
    id: 'runVerificationNowAction',
    call: { kind: 'action', file: 'lib/actions/post-deploy-actions.ts', name: 'runVerificationNowAction', args: 'json' },
    scopes: RECORD, who: 'admin, database-administrator, postgres-pro (Post-deployment)', may: (p) => postDeploy(p), writes: true, queuesRuns: true,
    prepare: async (fx, ctx) => ({ input: { requestId: (await fx.deployedRequest({ authorId: authorOf(ctx) })).id } }),
  },
  {
    id: 'GET /api/v1/requests/:id/post-deploy',
    call: { kind: 'route', file: 'app/api/v1/requests/[id]/post-deploy/route.ts', method: 'GET', path: '/api/v1/requests/:id/post-deploy' },
    scopes: RECORD, who: 'anyone who holds a role', may: anyRole, writes: false,
    prepare: async (fx, ctx) => ({ id: (await fx.request({ authorId: authorOf(ctx) })).id }),
  },
  // ---- issue 8, post-deploy: entries go above this line
  // ---- issue 8, board: entries go above this line
  // ---- lib/actions/agent-actions.ts (Admin > Agents)
  {
    id: 'createAgentAction',
    call: { kind: 'action', file: 'lib/actions/agent-actions.ts', name: 'createAgentAction', args: 'form' },
    scopes: GLOBAL, who: 'admin', may: admin, writes: true,
    prepare: async (fx) => ({ input: { name: `proof-agent-${fx.unique()}`, agentRoles: ['database-optimizer'], ownerId: (await fx.user()).id } }),
  },
  {
    id: 'updateAgentAction',
    call: { kind: 'action', file: 'lib/actions/agent-actions.ts', name: 'updateAgentAction', args: 'form' },
    scopes: GLOBAL, who: 'admin', may: admin, writes: true,
    prepare: async (fx) => ({ input: { agentId: (await fx.agentAccount()).id, agentRoles: ['postgres-pro', 'test-automator'], ownerId: (await fx.user()).id } }),
  },
  {
    id: 'setAgentPausedAction',
    call: { kind: 'action', file: 'lib/actions/agent-actions.ts', name: 'setAgentPausedAction', args: 'json' },
    scopes: GLOBAL, who: 'admin', may: admin, writes: true,
    prepare: async (fx) => ({ input: { agentId: (await fx.agentAccount()).id, paused: true } }),
  },
  {
    id: 'setAgentWebhookAction',
    call: { kind: 'action', file: 'lib/actions/agent-actions.ts', name: 'setAgentWebhookAction', args: 'form' },
    scopes: GLOBAL, who: 'admin', may: admin, writes: true,
    prepare: async (fx) => ({ input: { accountId: (await fx.agentAccount()).id, url: 'http://127.0.0.1:9/cutover-hook' } }),
  },
  {
    id: 'issueAgentTokenAction',
    call: { kind: 'action', file: 'lib/actions/agent-actions.ts', name: 'issueAgentTokenAction', args: 'form' },
    scopes: GLOBAL, who: 'admin', may: admin, writes: true,
    prepare: async (fx) => ({ input: { agentId: (await fx.agentAccount()).id, name: 'proof', expiresInDays: '30' } }),
  },
  {
    id: 'revokeAgentTokenAction',
    call: { kind: 'action', file: 'lib/actions/agent-actions.ts', name: 'revokeAgentTokenAction', args: 'json' },
    scopes: GLOBAL, who: 'admin', may: admin, writes: true,
    prepare: async (fx) => ({ input: { tokenId: (await fx.agentAccount()).tokenId } }),
  },
  // ---- the task API (issue 9): TaskCreate-shaped tasks, with a bearer token or the session cookie
  {
    id: 'GET /api/v1/tasks',
    call: { kind: 'route', file: 'app/api/v1/tasks/route.ts', method: 'GET', path: '/api/v1/tasks' },
    scopes: GLOBAL, who: 'anyone who holds a role', may: anyRole, writes: false,
    prepare: async () => ({ query: { ready: 'true', limit: '20' } }),
  },
  {
    id: 'GET /api/v1/tasks/:id',
    call: { kind: 'route', file: 'app/api/v1/tasks/[id]/route.ts', method: 'GET', path: '/api/v1/tasks/:id' },
    scopes: RECORD, who: 'anyone who holds a role', may: anyRole, writes: false,
    prepare: async (fx, ctx) => ({ id: (await fx.request({ authorId: authorOf(ctx) })).tasks[0].id }),
  },
  {
    id: 'PATCH /api/v1/tasks/:id',
    call: { kind: 'route', file: 'app/api/v1/tasks/[id]/route.ts', method: 'PATCH', path: '/api/v1/tasks/:id' },
    scopes: RECORD, who: "the step's agent roles, or admin", may: analysis, writes: true,
    prepare: async (fx, ctx) => ({ id: (await fx.request({ authorId: authorOf(ctx) })).tasks[0].id, body: { note: 'Noted over the task API.' } }),
  },
  {
    id: 'POST /api/v1/tasks/:id/claim',
    call: { kind: 'route', file: 'app/api/v1/tasks/[id]/claim/route.ts', method: 'POST', path: '/api/v1/tasks/:id/claim' },
    scopes: RECORD, who: "the step's agent roles, or admin", may: analysis, writes: true,
    prepare: async (fx, ctx) => ({ id: (await fx.request({ authorId: authorOf(ctx) })).tasks[0].id, body: {} }),
  },
  {
    id: 'POST /api/v1/tasks/:id/complete',
    call: { kind: 'route', file: 'app/api/v1/tasks/[id]/complete/route.ts', method: 'POST', path: '/api/v1/tasks/:id/complete' },
    scopes: RECORD, who: "the step's agent roles, or admin", may: analysis, writes: true,
    prepare: async (fx, ctx) => ({ id: (await fx.completableTask({ authorId: authorOf(ctx) })).taskId, body: {} }),
  },
  {
    id: 'POST /api/v1/tasks/:id/block',
    call: { kind: 'route', file: 'app/api/v1/tasks/[id]/block/route.ts', method: 'POST', path: '/api/v1/tasks/:id/block' },
    scopes: RECORD, who: "the step's agent roles, or admin", may: analysis, writes: true,
    prepare: async (fx, ctx) => ({ id: (await fx.request({ authorId: authorOf(ctx) })).tasks[0].id, body: { reason: 'Blocked over the task API.' } }),
  },
  {
    // Handing a task back: its holder, an admin, or the owner of the agent holding it. The fixture's
    // started step is held by the store's admin, so of the personas only the admin may.
    id: 'POST /api/v1/tasks/:id/release',
    call: { kind: 'route', file: 'app/api/v1/tasks/[id]/release/route.ts', method: 'POST', path: '/api/v1/tasks/:id/release' },
    scopes: RECORD, who: "the task's holder, an admin, or the holding agent's owner", may: admin, writes: true,
    prepare: async (fx, ctx) => ({ id: (await fx.request({ authorId: authorOf(ctx), start: 1 })).tasks[0].id, body: { reason: 'Handed back over the task API.' } }),
  },
  {
    id: 'GET /api/v1/requests/:id/tasks',
    call: { kind: 'route', file: 'app/api/v1/requests/[id]/tasks/route.ts', method: 'GET', path: '/api/v1/requests/:id/tasks' },
    scopes: RECORD, who: 'anyone who holds a role', may: anyRole, writes: false,
    prepare: async (fx, ctx) => ({ id: (await fx.request({ authorId: authorOf(ctx) })).id }),
  },
  // ---- issue 9, agents: entries go above this line
  // ---- server actions: lib/actions/admin-actions.ts
  {
    id: 'createTargetAction',
    call: { kind: 'action', file: 'lib/actions/admin-actions.ts', name: 'createTargetAction', args: 'form' },
    scopes: GLOBAL, who: 'admin', may: admin, writes: true,
    prepare: async (fx) => ({ input: { ...fx.targetFields(), name: `Proof target ${fx.unique()}`, environment: 'staging' } }),
  },
  {
    id: 'updateTargetAction',
    call: { kind: 'action', file: 'lib/actions/admin-actions.ts', name: 'updateTargetAction', args: 'form' },
    scopes: GLOBAL, who: 'admin', may: admin, writes: true,
    prepare: async (fx) => {
      const t = await fx.freshTarget();
      return { input: { ...fx.targetFields(), id: t.id, name: `${t.name} renamed`, environment: 'staging', password: '' } };
    },
  },
  {
    id: 'testTargetConnectionAction',
    call: { kind: 'action', file: 'lib/actions/admin-actions.ts', name: 'testTargetConnectionAction', args: 'json' },
    scopes: GLOBAL, who: 'admin', may: admin, writes: false,
    prepare: async (fx) => ({ input: { targetId: fx.target.id } }),
  },
  {
    id: 'createUserAction',
    call: { kind: 'action', file: 'lib/actions/admin-actions.ts', name: 'createUserAction', args: 'form' },
    scopes: GLOBAL, who: 'admin', may: admin, writes: true,
    prepare: async (fx) => {
      const tag = fx.unique();
      return { input: { email: `made-${tag}@e2e.test`, name: `Made ${tag}`, password: 'made-password-0123', roles: ['engineer'], agentRoles: [] } };
    },
  },
  {
    id: 'updateUserRolesAction',
    call: { kind: 'action', file: 'lib/actions/admin-actions.ts', name: 'updateUserRolesAction', args: 'form' },
    // own: the caller's own account (an admin may change their own roles while another admin remains).
    scopes: RECORD, who: 'admin', may: admin, writes: true,
    prepare: async (fx, ctx) => {
      if (ctx.scope === 'own') {
        return { input: { userId: ctx.selfId, roles: [...new Set([...ctx.persona.roles, 'engineer'])], agentRoles: ctx.persona.agentRoles, active: 'on' } };
      }
      const u = await fx.user();
      return { input: { userId: u.id, roles: ['engineer', 'reviewer'], agentRoles: ['test-automator'], active: 'on' } };
    },
  },
  {
    id: 'updateFenceSettingsAction',
    call: { kind: 'action', file: 'lib/actions/admin-actions.ts', name: 'updateFenceSettingsAction', args: 'form' },
    scopes: GLOBAL, who: 'admin', may: admin, writes: true,
    // Saved as the defaults are: the allow list other specs rely on stays as it was.
    prepare: async () => ({ input: { allowedExtensions: '', reset: 'on' } }),
  },
  // ---- lib/actions/migration-status-actions.ts
  // Importing a folder is a route (the role is checked before the upload is read): the archive is the body.
  {
    id: 'POST /api/v1/migration-folders',
    call: { kind: 'route', file: 'app/api/v1/migration-folders/route.ts', method: 'POST', path: '/api/v1/migration-folders' },
    scopes: GLOBAL, who: 'admin, lead, database-administrator', may: migrationsDesk, writes: true,
    // The file name (?name=) is left out: a fuzzed query longer than Node's header limit makes the
    // server close the connection while the client is still sending the body.
    prepare: async (fx) => ({ body: fx.archive().bytes }),
  },
  {
    id: 'requestStatusCheckAction',
    call: { kind: 'action', file: 'lib/actions/migration-status-actions.ts', name: 'requestStatusCheckAction', args: 'json' },
    scopes: GLOBAL, who: 'admin, lead, database-administrator', may: migrationsDesk, writes: true, queuesRuns: true,
    prepare: async (fx) => ({ input: { folderId: (await fx.folder()).id } }),
  },
  {
    id: 'requestFromPendingMigrationAction',
    call: { kind: 'action', file: 'lib/actions/migration-status-actions.ts', name: 'requestFromPendingMigrationAction', args: 'json' },
    scopes: GLOBAL, who: 'engineer, lead, admin', may: canFile, writes: true,
    prepare: async (fx) => {
      const f = await fx.folder();
      return { input: { folderId: f.id, targetId: fx.target.id, migrationName: f.migrationName } };
    },
  },
  // ---- lib/actions/request-actions.ts
  {
    id: 'fileRequestAction',
    call: { kind: 'action', file: 'lib/actions/request-actions.ts', name: 'fileRequestAction', args: 'form' },
    scopes: GLOBAL, who: 'engineer, lead, admin', may: canFile, writes: true,
    prepare: async (fx) => ({
      input: { title: `Proof filing ${fx.unique()}`, kind: 'index_optimization', targetId: fx.target.id, description: 'Index orders by placed_at for the report.', priority: 'LOW' },
    }),
  },
  // ---- lib/actions/run-actions.ts
  {
    id: 'requestSnapshotAction',
    call: { kind: 'action', file: 'lib/actions/run-actions.ts', name: 'requestSnapshotAction', args: 'json' },
    scopes: RECORD, who: 'admin, database-optimizer, postgres-pro (the Analysis step)', may: analysis, writes: true, queuesRuns: true,
    prepare: async (fx, ctx) => ({ input: { requestId: (await fx.request({ authorId: authorOf(ctx) })).id } }),
  },
  {
    id: 'requestRehearsalAction',
    call: { kind: 'action', file: 'lib/actions/run-actions.ts', name: 'requestRehearsalAction', args: 'json' },
    scopes: RECORD, who: 'admin, database-administrator (Test migration locally)', may: dba, writes: true, queuesRuns: true,
    prepare: async (fx, ctx) => ({ input: { requestId: (await fx.request({ authorId: authorOf(ctx), revision: true })).id, sampleRows: 0 } }),
  },
  {
    id: 'saveRevisionAction',
    call: { kind: 'action', file: 'lib/actions/run-actions.ts', name: 'saveRevisionAction', args: 'form' },
    scopes: RECORD, who: 'admin, database-administrator (Create migration)', may: dba, writes: true,
    prepare: async (fx, ctx) => ({ input: { requestId: (await fx.request({ authorId: authorOf(ctx) })).id, ...migrationSql(fx.unique()) } }),
  },
  {
    id: 'requestApplyAction',
    call: { kind: 'action', file: 'lib/actions/run-actions.ts', name: 'requestApplyAction', args: 'json' },
    scopes: RECORD, who: 'admin, database-administrator (never on production)', may: dba, writes: true, queuesRuns: true,
    // Applying beyond local needs a passing rehearsal of the revision (issue 8): recorded, so refusals are about who asks.
    prepare: async (fx, ctx) => {
      // A target of its own: deploy fixtures put the shared target behind a production environment,
      // where direct applies are refused whoever asks.
      const request = await fx.request({ authorId: authorOf(ctx), revision: true, targetId: (await fx.freshTarget()).id });
      await fx.passingRehearsal({ requestId: request.id });
      return { input: { requestId: request.id, direction: 'up' } };
    },
  },
  {
    id: 'cancelRunAction',
    call: { kind: 'action', file: 'lib/actions/run-actions.ts', name: 'cancelRunAction', args: 'json' },
    // own: a rehearsal the caller asked for on their own request.
    scopes: RECORD, who: 'who may start the run (a rehearsal: database-administrator), and admins', may: dba, writes: true,
    prepare: async (fx, ctx) => {
      const request = await fx.request({ authorId: authorOf(ctx) });
      return { input: { runId: (await fx.queuedRun({ requestId: request.id, requestedById: authorOf(ctx) })).id } };
    },
  },
  // ---- lib/actions/backup-actions.ts (the Create backup step: database-administrator, or admin)
  {
    id: 'requestBackupAction',
    call: { kind: 'action', file: 'lib/actions/backup-actions.ts', name: 'requestBackupAction', args: 'json' },
    scopes: RECORD, who: 'admin, database-administrator (Create backup)', may: dba, writes: true, queuesRuns: true,
    prepare: async (fx, ctx) => ({ input: { requestId: (await fx.request({ authorId: authorOf(ctx) })).id } }),
  },
  {
    id: 'requestDrillAction',
    call: { kind: 'action', file: 'lib/actions/backup-actions.ts', name: 'requestDrillAction', args: 'json' },
    scopes: RECORD, who: 'admin, database-administrator (Create backup)', may: dba, writes: true, queuesRuns: true,
    prepare: async (fx, ctx) => {
      const request = await fx.request({ authorId: authorOf(ctx) });
      await fx.backup({ requestId: request.id, requestedById: authorOf(ctx) });
      return { input: { requestId: request.id } };
    },
  },
  // ---- lib/actions/drift-actions.ts (the Analysis step's holders, or database-administrator, lead, admin)
  {
    id: 'requestDriftCheckAction',
    call: { kind: 'action', file: 'lib/actions/drift-actions.ts', name: 'requestDriftCheckAction', args: 'json' },
    scopes: RECORD, who: 'admin, database-optimizer, postgres-pro (the Analysis step), database-administrator, lead', may: (p) => analysis(p) || migrationsDesk(p), writes: true, queuesRuns: true,
    prepare: async (fx, ctx) => ({ input: { requestId: (await fx.request({ authorId: authorOf(ctx) })).id } }),
  },
  // ---- lib/actions/analysis-actions.ts (the Analysis step; acknowledgements: database-administrator, lead, reviewer, admin)
  {
    id: 'requestAnalysisAction',
    call: { kind: 'action', file: 'lib/actions/analysis-actions.ts', name: 'requestAnalysisAction', args: 'json' },
    scopes: RECORD, who: 'admin, database-optimizer, postgres-pro (the Analysis step), database-administrator', may: (p) => analysis(p) || dba(p), writes: true, queuesRuns: true,
    prepare: async (fx, ctx) => ({ input: { requestId: (await fx.request({ authorId: authorOf(ctx), revision: true })).id } }),
  },
  {
    id: 'acknowledgeDestructiveAction',
    call: { kind: 'action', file: 'lib/actions/analysis-actions.ts', name: 'acknowledgeDestructiveAction', args: 'json' },
    scopes: RECORD, who: 'admin, lead, reviewer, database-administrator, never on their own request or revision', may: (p, s) => (dba(p) || has(p, 'lead') || has(p, 'reviewer')) && s !== 'own', writes: true,
    prepare: async (fx, ctx) => {
      const request = await fx.request({ authorId: authorOf(ctx), revision: true });
      const { operationKey } = await fx.analysedRevision({ requestId: request.id, requestedById: authorOf(ctx) });
      return { input: { requestId: request.id, operationKey, note: 'The table was only a proof.' } };
    },
  },
  {
    id: 'saveAnalysisFieldsAction',
    call: { kind: 'action', file: 'lib/actions/analysis-actions.ts', name: 'saveAnalysisFieldsAction', args: 'json' },
    scopes: RECORD, who: 'admin, database-optimizer, postgres-pro (the Analysis step)', may: analysis, writes: true,
    prepare: async (fx, ctx) => ({ input: { requestId: (await fx.request({ authorId: authorOf(ctx) })).id, desiredChanges: `- add proof ${fx.unique()}`, migrationStrategy: 'Instant.' } }),
  },
  // ---- lib/actions/task-actions.ts (on the Analysis step: database-optimizer or postgres-pro, or admin)
  {
    id: 'transitionTaskAction',
    call: { kind: 'action', file: 'lib/actions/task-actions.ts', name: 'transitionTaskAction', args: 'json' },
    scopes: RECORD, who: "the step's agent roles, or admin (the gate: reviewers)", may: analysis, writes: true,
    prepare: async (fx, ctx) => ({ input: { taskId: (await fx.request({ authorId: authorOf(ctx) })).tasks[0].id, transition: 'start' } }),
  },
  {
    id: 'blockTaskAction',
    call: { kind: 'action', file: 'lib/actions/task-actions.ts', name: 'blockTaskAction', args: 'json' },
    scopes: RECORD, who: "the step's agent roles, or admin", may: analysis, writes: true,
    prepare: async (fx, ctx) => ({ input: { taskId: (await fx.request({ authorId: authorOf(ctx) })).tasks[0].id, reason: 'Waiting for the DBA.' } }),
  },
  {
    id: 'releaseTaskAction',
    call: { kind: 'action', file: 'lib/actions/task-actions.ts', name: 'releaseTaskAction', args: 'json' },
    scopes: RECORD, who: "the task's holder, an admin, or the holding agent's owner", may: admin, writes: true,
    prepare: async (fx, ctx) => ({ input: { taskId: (await fx.request({ authorId: authorOf(ctx), start: 1 })).tasks[0].id } }),
  },
  {
    id: 'toggleChecklistItemAction',
    call: { kind: 'action', file: 'lib/actions/task-actions.ts', name: 'toggleChecklistItemAction', args: 'json' },
    // Every Analysis item is ticked by evidence (issue 8): a hand-ticked item of Create migration ("Add data transformations if needed").
    scopes: RECORD, who: "the step's agent roles, or admin (items evidence ticks are refused)", may: dba, writes: true,
    prepare: async (fx, ctx) => ({ input: { itemId: (await fx.request({ authorId: authorOf(ctx), through: 1, start: 2 })).tasks[1].checklist[2], done: true } }),
  },
  {
    id: 'addTaskNoteAction',
    call: { kind: 'action', file: 'lib/actions/task-actions.ts', name: 'addTaskNoteAction', args: 'json' },
    scopes: RECORD, who: "the step's agent roles, or admin", may: analysis, writes: true,
    prepare: async (fx, ctx) => ({ input: { taskId: (await fx.request({ authorId: authorOf(ctx), start: 1 })).tasks[0].id, body: 'Looked at the plan.' } }),
  },
  {
    id: 'signGateItemAction',
    call: { kind: 'action', file: 'lib/actions/task-actions.ts', name: 'signGateItemAction', args: 'json' },
    scopes: RECORD, who: 'reviewer, never on their own request', may: (p, s) => has(p, 'reviewer') && s !== 'own', writes: true,
    prepare: async (fx, ctx) => ({ input: { gateItemId: (await fx.request({ authorId: authorOf(ctx), through: 6 })).gateItems[0], note: 'Evidence read.' } }),
  },
  // ---- API routes
  {
    id: 'GET /api/v1/requests',
    call: { kind: 'route', file: 'app/api/v1/requests/route.ts', method: 'GET', path: '/api/v1/requests' },
    scopes: GLOBAL, who: 'anyone who holds a role', may: anyRole, writes: false,
    prepare: async () => ({ query: { pageSize: '5' } }),
  },
  {
    id: 'POST /api/v1/requests',
    call: { kind: 'route', file: 'app/api/v1/requests/route.ts', method: 'POST', path: '/api/v1/requests' },
    scopes: GLOBAL, who: 'engineer, lead, admin', may: canFile, writes: true,
    prepare: async (fx) => ({
      body: { title: `Proof API filing ${fx.unique()}`, kind: 'schema_change', targetId: fx.target.id, description: 'Rename orders.note to orders.notes.' },
    }),
  },
  {
    id: 'GET /api/v1/requests/:id',
    call: { kind: 'route', file: 'app/api/v1/requests/[id]/route.ts', method: 'GET', path: '/api/v1/requests/:id' },
    scopes: RECORD, who: 'anyone who holds a role', may: anyRole, writes: false,
    prepare: async (fx, ctx) => ({ id: (await fx.request({ authorId: authorOf(ctx) })).id }),
  },
  {
    id: 'GET /api/v1/requests/:id/migration',
    call: { kind: 'route', file: 'app/api/v1/requests/[id]/migration/route.ts', method: 'GET', path: '/api/v1/requests/:id/migration' },
    scopes: RECORD, who: 'anyone who holds a role', may: anyRole, writes: false,
    prepare: async (fx, ctx) => ({ id: (await fx.request({ authorId: authorOf(ctx), revision: true })).id }),
  },
  {
    id: 'GET /api/v1/backups/:id/restore-script',
    call: { kind: 'route', file: 'app/api/v1/backups/[id]/restore-script/route.ts', method: 'GET', path: '/api/v1/backups/:id/restore-script' },
    scopes: RECORD, who: "anyone who holds a role (the target's address only for admins)", may: anyRole, writes: false,
    prepare: async (fx, ctx) => {
      const request = await fx.request({ authorId: authorOf(ctx) });
      return { id: (await fx.backup({ requestId: request.id, requestedById: authorOf(ctx) })).artifactId };
    },
  },
  {
    id: 'GET /api/v1/backups/:id/file',
    call: { kind: 'route', file: 'app/api/v1/backups/[id]/file/route.ts', method: 'GET', path: '/api/v1/backups/:id/file' },
    // An allowed download streams the fixture's file and writes its audit row.
    scopes: RECORD, who: 'holders of the Create backup step (database-administrator), or admin: the file holds all of the target\'s data', may: dba, writes: true,
    prepare: async (fx, ctx) => {
      const request = await fx.request({ authorId: authorOf(ctx) });
      return { id: (await fx.backup({ requestId: request.id, requestedById: authorOf(ctx) })).artifactId };
    },
  },
  {
    id: 'POST /api/v1/tasks/:id/transitions',
    call: { kind: 'route', file: 'app/api/v1/tasks/[id]/transitions/route.ts', method: 'POST', path: '/api/v1/tasks/:id/transitions' },
    scopes: RECORD, who: "the step's agent roles, or admin", may: analysis, writes: true,
    prepare: async (fx, ctx) => ({ id: (await fx.request({ authorId: authorOf(ctx) })).tasks[0].id, body: { transition: 'start' } }),
  },
  {
    id: 'POST /api/v1/gate-items/:id/signatures',
    call: { kind: 'route', file: 'app/api/v1/gate-items/[id]/signatures/route.ts', method: 'POST', path: '/api/v1/gate-items/:id/signatures' },
    scopes: RECORD, who: 'reviewer, never on their own request', may: (p, s) => has(p, 'reviewer') && s !== 'own', writes: true,
    prepare: async (fx, ctx) => ({ id: (await fx.request({ authorId: authorOf(ctx), through: 6 })).gateItems[0], body: { note: 'Signed over the API.' } }),
  },
  // ---- issue 9, MCP: POST /api/mcp takes a bearer token only (a session cookie is 401 for everyone), so the
  // cookie-driven matrix and fuzzer skip it; every tool's roles, refusals and fuzzed input are checked with agent
  // tokens in tests/integration/mcp-*.test.ts (mcp-matrix.test.ts: the same role predicates as this table).
  {
    id: 'POST /api/mcp',
    call: { kind: 'route', file: 'app/api/mcp/route.ts', method: 'POST', path: '/api/mcp' },
    scopes: [], who: 'bearer tokens only (agents, CI); each tool as its browser counterpart', may: () => false, writes: false, noFuzz: true,
    prepare: async () => ({}),
  },
  // ---- issue 9, events: a Server-Sent Events stream never ends, so the matrix and the fuzzer (which read whole
  // answers) skip it; who hears what, resuming and refused tokens are in tests/integration/agent-events.test.ts.
  {
    id: 'GET /api/v1/events',
    call: { kind: 'route', file: 'app/api/v1/events/route.ts', method: 'GET', path: '/api/v1/events' },
    scopes: [], who: 'anyone signed in or with a token: events of their own agent roles and runs (admins: all)', may: () => false, writes: false, noFuzz: true,
    prepare: async () => ({}),
  },
  // next-auth: the sign-in endpoint itself, open to everyone; the matrix reads the session it reports.
  {
    id: 'GET /api/auth/[...nextauth]',
    call: { kind: 'route', file: 'app/api/auth/[...nextauth]/route.ts', method: 'GET', path: '/api/auth/session' },
    scopes: GLOBAL, who: 'everyone (next-auth: csrf, session, providers)', may: () => true, writes: false, noFuzz: true,
    prepare: async () => ({}),
  },
  {
    id: 'POST /api/auth/[...nextauth]',
    call: { kind: 'route', file: 'app/api/auth/[...nextauth]/route.ts', method: 'POST', path: '/api/auth/callback/credentials' },
    // Checked by the sign-in specs (rate limits, timing, callbackUrl); the matrix only lists it.
    scopes: [], who: 'everyone (next-auth: sign-in and sign-out)', may: () => true, writes: false, noFuzz: true,
    prepare: async () => ({}),
  },
];

/** The table as markdown, for the issue note. */
export function entryPointTable(): string {
  const lines = ['| entry point | kind | file | who may call |', '|---|---|---|---|'];
  for (const e of ENTRY_POINTS) {
    lines.push(`| \`${e.id}\` | ${e.call.kind === 'action' ? 'server action' : 'API route'} | \`${e.call.file}\` | ${e.who} |`);
  }
  return lines.join('\n');
}
