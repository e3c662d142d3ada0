import { canWorkTask, hasRole, isAdmin, type Actor } from './permissions';

/** Run kinds, as the store names them. */
export type RunKindName = 'snapshot' | 'rehearsal' | 'apply' | 'down' | 'status' | 'analysis' | 'backup' | 'drill' | 'drift' | 'deploy' | 'verify' | 'restore';
export const RUN_KINDS: readonly RunKindName[] = ['snapshot', 'rehearsal', 'apply', 'down', 'status', 'analysis', 'backup', 'drill', 'drift', 'deploy', 'verify', 'restore'];
export type RunStatusName = 'queued' | 'running' | 'succeeded' | 'failed' | 'interrupted' | 'cancelled' | 'timed_out';

/** A run in one of these states has ended and stays as it is. */
export const FINISHED_RUN_STATUSES: readonly RunStatusName[] = ['succeeded', 'failed', 'interrupted', 'cancelled', 'timed_out'];
export const isRunFinished = (status: string) => (FINISHED_RUN_STATUSES as readonly string[]).includes(status);

/**
 * The workflow step whose holders may start a kind of run: snapshot, analysis and drift the
 * Analysis step (1), rehearsal Test migration locally (3), backup and drill Create backup (6).
 */
export const RUN_STEP_POSITION: Partial<Record<RunKindName, number>> = { snapshot: 1, analysis: 1, drift: 1, rehearsal: 3, backup: 6, drill: 6, deploy: 8, restore: 8, verify: 9 };

export interface RunStep {
  subject: string;
  eligibleRoles: readonly string[];
  isGate: boolean;
}

export const canCheckMigrationStatus = (a: Actor) => isAdmin(a) || hasRole(a, 'lead') || a.agentRoles.includes('database-administrator');

/**
 * Why `actor` may not start (or cancel) a run of this kind, or null when they may: one place
 * for these messages, used when a run is queued, when a worker claims it and for Cancel.
 */
export function runRoleRefusal(actor: Actor, kind: RunKindName, step?: RunStep | null): string | null {
  switch (kind) {
    case 'snapshot':
    case 'rehearsal': {
      if (!step) return 'This run belongs to a request whose workflow step no longer exists.';
      if (canWorkTask(actor, step)) return null;
      const who = `Only holders of ${step.eligibleRoles.join(' or ')} (or admins)`;
      return kind === 'snapshot' ? `${who} can take snapshots for "${step.subject}".` : `${who} can rehearse the migration.`;
    }
    case 'apply':
    case 'down':
      return isAdmin(actor) || actor.agentRoles.includes('database-administrator')
        ? null
        : 'Applying migrations to a target needs the database-administrator role (or admin).';
    case 'status':
      return canCheckMigrationStatus(actor) ? null : 'Checking migration status needs the database-administrator, lead or admin role.';
    case 'analysis': {
      if (!step) return 'This run belongs to a request whose workflow step no longer exists.';
      if (canWorkTask(actor, step) || actor.agentRoles.includes('database-administrator')) return null;
      return `Only holders of ${[...step.eligibleRoles, 'database-administrator'].join(' or ')} (or admins) can analyse the migration for "${step.subject}".`;
    }
    case 'backup':
    case 'drill': {
      if (!step) return 'This run belongs to a request whose workflow step no longer exists.';
      if (canWorkTask(actor, step)) return null;
      const who = `Only holders of ${step.eligibleRoles.join(' or ')} (or admins)`;
      return kind === 'backup' ? `${who} can take backups for "${step.subject}".` : `${who} can run restore drills for "${step.subject}".`;
    }
    case 'drift': {
      if (!step) return 'This run belongs to a request whose workflow step no longer exists.';
      if (canWorkTask(actor, step) || canCheckMigrationStatus(actor)) return null;
      return `Checking drift needs ${step.eligibleRoles.join(' or ')}, database-administrator, lead or admin.`;
    }
    case 'deploy':
    case 'restore':
    case 'verify': {
      if (!step) return 'This run belongs to a request whose workflow step no longer exists.';
      if (canWorkTask(actor, step)) return null;
      const who = `Only holders of ${step.eligibleRoles.join(' or ')} (or admins)`;
      return kind === 'deploy' ? `${who} can deploy the migration.` : kind === 'restore' ? `${who} can restore a backup after a failed deploy.` : `${who} can run the post-deployment checks.`;
    }
  }
}

/** Why a run of this kind may not run on this target, or null: production changes go through the Deploy step. */
export function runTargetRefusal(
  kind: RunKindName,
  target: { name: string; environment: string; approvalEnvironment?: string | null },
  run: { deploymentId?: string | null } = {},
): string | null {
  // Every other kind only reads the target (snapshot, status, analysis, drift, backup; a rehearsal
  // or a drill works on a copy in the sandbox), so production targets are fine. A down run that
  // recovers a failed deploy is the Deploy step's own (lib/services/deploy.ts checks it).
  if ((kind === 'apply' || kind === 'down') && target.environment === 'production' && !run.deploymentId) {
    return `${target.name} is a production target: production changes go through the Deploy step after the quality gate.`;
  }
  // Whatever its label, the target of an environment that requires approval (approvalEnvironment: its name) is changed only by a deploy.
  if ((kind === 'apply' || kind === 'down') && target.approvalEnvironment && !run.deploymentId) {
    return `${target.name} is the target of the ${target.approvalEnvironment} environment, which requires approval: changes to it go through the Deploy step after the quality gate and a lead's approval.`;
  }
  return null;
}

/**
 * What was checked when a run was queued, stored on the run (never the password itself: a keyed
 * fingerprint of it), so the worker can refuse a run whose target or requester changed since.
 */
export interface FrozenRunSettings {
  target: {
    environment: string;
    host: string | null;
    port: number | null;
    /** File-based engines (SQLite, later); absent on runs queued before it existed. */
    filePath?: string | null;
    database: string;
    username: string | null;
    passwordFingerprint: string | null;
    sslMode: string;
    connectTimeoutMs: number;
    lockTimeoutMs: number;
    statementTimeoutMs: number;
    runDeadlineMs: number;
    allowedStatementKinds: string[];
    rehearsalServerFingerprint: string | null;
    /** Absent on runs queued before it existed. */
    lockImpactThresholdMs?: number;
  };
  revisionChecksum: string | null;
  requester: { id: string; roles: string[]; agentRoles: string[] };
}

const TARGET_FIELD_NAMES: Record<keyof FrozenRunSettings['target'], string> = {
  environment: 'environment',
  host: 'host',
  port: 'port',
  filePath: 'file path',
  database: 'database name',
  username: 'user name',
  passwordFingerprint: 'password',
  sslMode: 'SSL mode',
  connectTimeoutMs: 'connect timeout',
  lockTimeoutMs: 'lock timeout',
  statementTimeoutMs: 'statement timeout',
  runDeadlineMs: 'run deadline',
  allowedStatementKinds: 'allowed statement kinds',
  rehearsalServerFingerprint: 'rehearsal server',
  lockImpactThresholdMs: 'lock impact threshold',
};

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The first thing that changed since the run was queued, as a sentence for the run's error; null when nothing did. */
export function frozenSettingsChange(frozen: FrozenRunSettings, now: FrozenRunSettings): string | null {
  for (const key of Object.keys(TARGET_FIELD_NAMES) as (keyof FrozenRunSettings['target'])[]) {
    if (!(key in frozen.target)) continue; // a setting added after the run was frozen
    if (!same(frozen.target[key] ?? null, now.target[key] ?? null)) {
      return `The target's ${TARGET_FIELD_NAMES[key]} changed after this run was queued; queue it again.`;
    }
  }
  if (!same(frozen.revisionChecksum, now.revisionChecksum)) return 'The migration changed after this run was queued; queue it again.';
  return null;
}
