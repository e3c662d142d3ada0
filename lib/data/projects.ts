import 'server-only';
import { getDb } from '../db/client';
import { DomainError, notFound } from '../domain/errors';
import { canWorkTask, holdsAnyRole, isAdmin, type Actor } from '../domain/permissions';
import { assertCanRead } from './access';

const environmentView = (e: { id: string; position: number; name: string; healthCheckUrl: string | null; requiresApproval: boolean; target: { id: string; name: string; environment: string } }) => ({
  id: e.id, position: e.position, name: e.name, healthCheckUrl: e.healthCheckUrl, requiresApproval: e.requiresApproval,
  target: { id: e.target.id, name: e.target.name, environment: e.target.environment },
});
export type EnvironmentView = ReturnType<typeof environmentView>;

/** Projects as the admin page shows them: settings and environments in order, whether a credential is set (never the credential). */
export async function listProjects(actor: Actor) {
  if (!isAdmin(actor)) throw new DomainError('forbidden', 'Projects are managed by admins.');
  const projects = await getDb().project.findMany({
    orderBy: { name: 'asc' },
    include: {
      environments: { orderBy: { position: 'asc' }, include: { target: { select: { id: true, name: true, environment: true } } } },
      _count: { select: { requests: true } },
    },
  });
  return projects.map((p) => ({
    id: p.id, name: p.name, repositoryUrl: p.repositoryUrl, deployBranch: p.deployBranch, schemaPath: p.schemaPath,
    repositoryUsername: p.repositoryUsername, hasCredential: p.repositoryCredentialEncrypted !== null,
    minGateReviewers: p.minGateReviewers, backupMaxAgeHours: p.backupMaxAgeHours,
    verificationIntervalSeconds: p.verificationIntervalSeconds, verificationWindowMinutes: p.verificationWindowMinutes,
    requestCount: p._count.requests,
    environments: p.environments.map(environmentView),
  }));
}
export type ProjectView = Awaited<ReturnType<typeof listProjects>>[number];

/** Project names for pickers (filing a request); any signed-in person with a role. */
export async function listProjectOptions(actor: Actor) {
  assertCanRead(actor);
  return getDb().project.findMany({ orderBy: { name: 'asc' }, select: { id: true, name: true, deployBranch: true } });
}

/**
 * The request's project (repository, deploy branch, environments in order) and app branch, and
 * whether the viewer may change them (author, holders of Update app code, admins).
 */
export async function getRequestProject(actor: Actor, requestId: string) {
  assertCanRead(actor);
  const db = getDb();
  const request = await db.migrationRequest.findUnique({
    where: { id: requestId },
    select: {
      authorId: true, appBranch: true,
      project: {
        select: {
          id: true, name: true, repositoryUrl: true, deployBranch: true, schemaPath: true,
          environments: { orderBy: { position: 'asc' }, include: { target: { select: { id: true, name: true, environment: true } } } },
        },
      },
    },
  });
  if (!request) throw notFound('Migration request');
  const step = await db.task.findFirst({ where: { requestId, key: 'update-app-code' }, select: { eligibleRoles: true, isGate: true } });
  const canEdit = isAdmin(actor) || (actor.id === request.authorId && holdsAnyRole(actor)) || (step !== null && canWorkTask(actor, step));
  const project = request.project ? { ...request.project, environments: request.project.environments.map(environmentView) } : null;
  return {
    project, appBranch: request.appBranch, canEdit,
    projectOptions: canEdit ? await db.project.findMany({ orderBy: { name: 'asc' }, select: { id: true, name: true } }) : [],
  };
}
export type RequestProjectView = Awaited<ReturnType<typeof getRequestProject>>;
