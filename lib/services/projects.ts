// No 'server-only' here: the worker (tsx scripts/worker.ts, npm start) imports this outside Next, where it throws.
import { getDb, type Db, type Tx } from '../db/client';
import { secretKey } from '../db/settings';
import { DomainError, conflict, forbidden, notFound } from '../domain/errors';
import { canWorkTask, holdsAnyRole, isAdmin, type Actor } from '../domain/permissions';
import { encryptSecret } from '../engine';
import { loadActor } from '../auth/actor';
import type { Project, ProjectEnvironment, TargetDatabase } from '../generated/prisma/client';
import type {
  AddEnvironmentInput, MoveEnvironmentInput, ProjectInput, SetRequestProjectInput, UpdateEnvironmentInput, UpdateProjectInput,
} from '../validation/project';
import { credentialTransportProblem } from '../validation/project';
import { outboundUrlProblem, repositoryAddressProblem } from '../health/outbound';
import { recordAudit } from './audit';
import { STEP_CLAIM_FIELDS, assertStepClaimAllows } from './step-claim';

export type EnvironmentWithTarget = ProjectEnvironment & { target: TargetDatabase };

/**
 * A project's environments in promotion order (position ascending), each with its target. The
 * target row holds encrypted secrets: callers hand it to the engine (targetSettings), never to a page.
 */
export async function environmentsOf(db: Db | Tx, projectId: string): Promise<EnvironmentWithTarget[]> {
  return db.projectEnvironment.findMany({ where: { projectId }, orderBy: { position: 'asc' }, include: { target: true } });
}

/**
 * The production environment: the one with the highest position (normally the one that requires
 * approval), or null when the project has no environment yet.
 */
export function productionEnvironment<E extends Pick<ProjectEnvironment, 'position'>>(project: { environments: readonly E[] }): E | null {
  let last: E | null = null;
  for (const env of project.environments) if (!last || env.position > last.position) last = env;
  return last;
}

/**
 * The target a request's backups and restore drills are of ("Backup procedure ready" rests on
 * them): its project's production environment's target, or the request's own target when it has
 * no project (or the project no environment yet). The environment comes with it (null for the own target).
 */
export async function backupTargetOf(db: Db | Tx, request: { targetId: string; projectId: string | null }): Promise<{ targetId: string; environment: EnvironmentWithTarget | null }> {
  const production = request.projectId ? productionEnvironment({ environments: await environmentsOf(db, request.projectId) }) : null;
  return production ? { targetId: production.targetId, environment: production } : { targetId: request.targetId, environment: null };
}

function assertAdmin(actor: Actor) {
  if (!isAdmin(actor)) throw forbidden('Projects and their environments are managed by admins.');
}

/** What an audit row may say about a project: never the credential, only whether one is set. */
function auditView(p: Project) {
  return {
    name: p.name, repositoryUrl: p.repositoryUrl, deployBranch: p.deployBranch, schemaPath: p.schemaPath,
    repositoryUsername: p.repositoryUsername, hasCredential: p.repositoryCredentialEncrypted !== null,
    minGateReviewers: p.minGateReviewers, backupMaxAgeHours: p.backupMaxAgeHours,
    verificationIntervalSeconds: p.verificationIntervalSeconds, verificationWindowMinutes: p.verificationWindowMinutes,
  };
}
const environmentView = (e: ProjectEnvironment & { target?: { name: string } }) => ({
  name: e.name, position: e.position, targetId: e.targetId, target: e.target?.name, healthCheckUrl: e.healthCheckUrl, requiresApproval: e.requiresApproval,
});

/** The health-check URL may not point at this machine, link-local addresses or the metadata service (lib/health/outbound.ts); the check runs again at each poll. */
async function assertHealthUrlAllowed(url: string | undefined | null) {
  const problem = url ? await outboundUrlProblem(url, 'health-check URL') : null;
  if (problem) throw new DomainError('invalid', problem, 'healthCheckUrl');
}

/** A credential never goes over plain text to another machine, nor to this one (lib/health/outbound.ts); lib/git checks again before each call. */
async function assertRepositoryTransport(url: string, hasCredential: boolean) {
  const problem = credentialTransportProblem(url, hasCredential) ?? (await repositoryAddressProblem(url, hasCredential));
  if (problem) throw new DomainError('invalid', problem, 'repositoryUrl');
}

function uniqueName(what: string, field = 'name') {
  return (err: unknown): never => {
    if ((err as { code?: string }).code === 'P2002') throw new DomainError('invalid', `${what} with this name already exists.`, field);
    throw err;
  };
}

/** The stored credential: a new one replaces it, the clear box forgets it, empty keeps it (undefined). */
function credentialUpdate(input: { repositoryCredential?: string; clearRepositoryCredential?: boolean }): string | null | undefined {
  if (input.repositoryCredential) return encryptSecret(input.repositoryCredential, secretKey());
  return input.clearRepositoryCredential ? null : undefined;
}

type ProjectServiceInput = Omit<ProjectInput, 'clearRepositoryCredential'> & { clearRepositoryCredential?: boolean };

function projectData(input: ProjectServiceInput) {
  return {
    name: input.name, repositoryUrl: input.repositoryUrl, deployBranch: input.deployBranch, schemaPath: input.schemaPath,
    repositoryUsername: input.repositoryUsername ?? null, minGateReviewers: input.minGateReviewers, backupMaxAgeHours: input.backupMaxAgeHours,
    verificationIntervalSeconds: input.verificationIntervalSeconds, verificationWindowMinutes: input.verificationWindowMinutes,
  };
}

export async function createProject(actorId: string, input: ProjectServiceInput) {
  return getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    assertAdmin(actor);
    await assertRepositoryTransport(input.repositoryUrl, Boolean(input.repositoryCredential));
    const project = await tx.project
      .create({ data: { ...projectData(input), repositoryCredentialEncrypted: credentialUpdate(input) ?? null, createdById: actor.id } })
      .catch(uniqueName('A project'));
    await recordAudit(tx, { actorId: actor.id, action: 'project.created', entityType: 'Project', entityId: project.id, after: auditView(project) });
    return { id: project.id };
  });
}

export async function updateProject(actorId: string, input: Omit<UpdateProjectInput, 'clearRepositoryCredential'> & { clearRepositoryCredential?: boolean }) {
  return getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    assertAdmin(actor);
    const before = await tx.project.findUnique({ where: { id: input.id } });
    if (!before) throw notFound('Project');
    const after = await tx.project
      .update({ where: { id: input.id }, data: { ...projectData(input), repositoryCredentialEncrypted: credentialUpdate(input) } })
      .catch(uniqueName('A project'));
    // After the update: an empty credential box keeps the stored one, which counts too.
    await assertRepositoryTransport(after.repositoryUrl, after.repositoryCredentialEncrypted !== null);
    await recordAudit(tx, { actorId: actor.id, action: 'project.updated', entityType: 'Project', entityId: after.id, before: auditView(before), after: auditView(after) });
    return { id: after.id };
  });
}

/** Only a project no request names can go (requests keep their project for the record). */
export async function deleteProject(actorId: string, projectId: string) {
  return getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    assertAdmin(actor);
    const project = await tx.project.findUnique({ where: { id: projectId }, include: { environments: true, _count: { select: { requests: true } } } });
    if (!project) throw notFound('Project');
    if (project._count.requests > 0) {
      throw conflict(`Project ${project.name} is named by ${project._count.requests} request${project._count.requests === 1 ? '' : 's'}; it stays for their record.`);
    }
    const deployments = await tx.deployment.count({ where: { environment: { projectId } } });
    if (deployments > 0) throw conflict(`Project ${project.name} has deployments on record; it stays for their record.`);
    await tx.project.delete({ where: { id: projectId } });
    await recordAudit(tx, {
      actorId: actor.id, action: 'project.deleted', entityType: 'Project', entityId: projectId,
      before: { ...auditView(project), environments: project.environments.map(environmentView) },
    });
    return { id: projectId };
  });
}

async function lockProject(tx: Tx, projectId: string) {
  const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM projects WHERE id = ${projectId}::uuid FOR UPDATE`;
  if (locked.length === 0) throw notFound('Project');
}

async function assertTargetFree(tx: Tx, projectId: string, targetId: string, exceptEnvironmentId?: string) {
  const target = await tx.targetDatabase.findUnique({ where: { id: targetId }, select: { name: true } });
  if (!target) throw new DomainError('invalid', 'That target database does not exist.', 'targetId');
  const other = await tx.projectEnvironment.findFirst({ where: { projectId, targetId, NOT: exceptEnvironmentId ? { id: exceptEnvironmentId } : undefined }, select: { name: true } });
  if (other) throw new DomainError('invalid', `Target ${target.name} is already the database of environment ${other.name}; each environment needs its own.`, 'targetId');
  return target;
}

/** Adds an environment after the project's last one (promotion order). */
export async function addEnvironment(actorId: string, input: AddEnvironmentInput) {
  return getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    assertAdmin(actor);
    await assertHealthUrlAllowed(input.healthCheckUrl);
    await lockProject(tx, input.projectId);
    const target = await assertTargetFree(tx, input.projectId, input.targetId);
    const last = await tx.projectEnvironment.findFirst({ where: { projectId: input.projectId }, orderBy: { position: 'desc' }, select: { position: true } });
    const env = await tx.projectEnvironment
      .create({
        data: {
          projectId: input.projectId, position: (last?.position ?? 0) + 1, name: input.name, targetId: input.targetId,
          healthCheckUrl: input.healthCheckUrl ?? null, requiresApproval: input.requiresApproval,
        },
      })
      .catch(uniqueName('An environment of this project'));
    await recordAudit(tx, {
      actorId: actor.id, action: 'project.environment_added', entityType: 'ProjectEnvironment', entityId: env.id,
      after: { projectId: input.projectId, ...environmentView({ ...env, target }) },
    });
    return { id: env.id };
  });
}

export async function updateEnvironment(actorId: string, input: UpdateEnvironmentInput) {
  return getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    assertAdmin(actor);
    const before = await tx.projectEnvironment.findUnique({ where: { id: input.id }, include: { target: { select: { name: true } } } });
    if (!before) throw notFound('Environment');
    await assertHealthUrlAllowed(input.healthCheckUrl);
    await lockProject(tx, before.projectId);
    const target = await assertTargetFree(tx, before.projectId, input.targetId, before.id);
    if (before.targetId !== input.targetId && (await tx.deployment.count({ where: { environmentId: before.id } })) > 0) {
      throw conflict(`Environment ${before.name} has deployments on record against ${before.target.name}; add a new environment instead of pointing this one elsewhere.`);
    }
    const after = await tx.projectEnvironment
      .update({
        where: { id: input.id },
        data: { name: input.name, targetId: input.targetId, healthCheckUrl: input.healthCheckUrl ?? null, requiresApproval: input.requiresApproval },
      })
      .catch(uniqueName('An environment of this project'));
    await recordAudit(tx, {
      actorId: actor.id, action: 'project.environment_updated', entityType: 'ProjectEnvironment', entityId: after.id,
      before: { projectId: before.projectId, ...environmentView(before) }, after: { projectId: after.projectId, ...environmentView({ ...after, target }) },
    });
    return { id: after.id };
  });
}

/** Swaps an environment with its neighbour in promotion order. */
export async function moveEnvironment(actorId: string, input: MoveEnvironmentInput) {
  return getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    assertAdmin(actor);
    const env = await tx.projectEnvironment.findUnique({ where: { id: input.id } });
    if (!env) throw notFound('Environment');
    await lockProject(tx, env.projectId);
    const all = await environmentsOf(tx, env.projectId);
    const index = all.findIndex((e) => e.id === env.id);
    const other = all[input.direction === 'up' ? index - 1 : index + 1];
    if (!other) throw new DomainError('invalid', `${env.name} is already the ${input.direction === 'up' ? 'first' : 'last'} environment.`);
    // (projectId, position) is unique: park one at a free position while the other moves.
    await tx.projectEnvironment.update({ where: { id: env.id }, data: { position: -1 } });
    await tx.projectEnvironment.update({ where: { id: other.id }, data: { position: env.position } });
    await tx.projectEnvironment.update({ where: { id: env.id }, data: { position: other.position } });
    await recordAudit(tx, {
      actorId: actor.id, action: 'project.environments_reordered', entityType: 'Project', entityId: env.projectId,
      before: { order: all.map((e) => e.name) },
      after: { order: all.map((e) => (e.id === env.id ? other.name : e.id === other.id ? env.name : e.name)) },
    });
    return { id: env.id };
  });
}

/** Removes an environment with no deployments on record; the ones after it move up. */
export async function removeEnvironment(actorId: string, environmentId: string) {
  return getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    assertAdmin(actor);
    const env = await tx.projectEnvironment.findUnique({ where: { id: environmentId }, include: { target: { select: { name: true } } } });
    if (!env) throw notFound('Environment');
    await lockProject(tx, env.projectId);
    if ((await tx.deployment.count({ where: { environmentId } })) > 0 || (await tx.deploymentApproval.count({ where: { environmentId } })) > 0) {
      throw conflict(`Environment ${env.name} has deployments or approvals on record; it stays for their record.`);
    }
    await tx.projectEnvironment.delete({ where: { id: environmentId } });
    const after = await tx.projectEnvironment.findMany({ where: { projectId: env.projectId, position: { gt: env.position } }, orderBy: { position: 'asc' } });
    for (const e of after) await tx.projectEnvironment.update({ where: { id: e.id }, data: { position: e.position - 1 } });
    await recordAudit(tx, {
      actorId: actor.id, action: 'project.environment_removed', entityType: 'ProjectEnvironment', entityId: environmentId,
      before: { projectId: env.projectId, ...environmentView(env) },
    });
    return { id: environmentId };
  });
}

/** The project a request is filed with must exist; returns its name for the audit row. */
export async function projectForFiling(tx: Tx, projectId: string | undefined | null): Promise<{ id: string; name: string } | null> {
  if (!projectId) return null;
  const project = await tx.project.findUnique({ where: { id: projectId }, select: { id: true, name: true } });
  if (!project) throw new DomainError('invalid', 'That project does not exist.', 'projectId');
  return project;
}

/**
 * Sets a request's project and app branch: its author, holders of Update app code, or admins.
 * Audited with what it was before. A request with deployments keeps its project.
 */
export async function setRequestProject(actorId: string, input: SetRequestProjectInput) {
  return getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM migration_requests WHERE id = ${input.requestId}::uuid FOR UPDATE`;
    if (locked.length === 0) throw notFound('Migration request');
    const request = await tx.migrationRequest.findUniqueOrThrow({
      where: { id: input.requestId }, select: { authorId: true, projectId: true, appBranch: true, project: { select: { name: true } } },
    });
    const step = await tx.task.findFirst({ where: { requestId: input.requestId, key: 'update-app-code' }, select: { eligibleRoles: true, isGate: true, ...STEP_CLAIM_FIELDS } });
    const may = isAdmin(actor) || (actor.id === request.authorId && holdsAnyRole(actor)) || (step !== null && canWorkTask(actor, step));
    if (!may) throw forbidden(`Only the request's author, holders of ${step?.eligibleRoles.join(' or ') ?? 'Update app code'} or admins can change its project and app branch.`);
    // The branch is what the Update app code step works on: while an agent holds it, it is the holder's.
    await assertStepClaimAllows(tx, actor, step);
    const project = await projectForFiling(tx, input.projectId);
    const after = { projectId: project?.id ?? null, appBranch: input.appBranch ?? null };
    if (after.projectId === request.projectId && after.appBranch === request.appBranch) return { changed: false };
    if (after.projectId !== request.projectId && (await tx.deployment.count({ where: { requestId: input.requestId } })) > 0) {
      throw conflict(`This request was deployed through project ${request.project?.name ?? '(none)'}; it keeps that project.`);
    }
    await tx.migrationRequest.update({ where: { id: input.requestId }, data: after });
    await recordAudit(tx, {
      actorId: actor.id, requestId: input.requestId, action: 'request.project_set', entityType: 'MigrationRequest', entityId: input.requestId,
      before: { project: request.project?.name ?? null, appBranch: request.appBranch },
      after: { project: project?.name ?? null, appBranch: after.appBranch },
    });
    return { changed: true };
  });
}
