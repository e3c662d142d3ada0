import { z } from 'zod';
import { PEOPLE_ONLY_MESSAGE, samePersonAs, type Party } from './permissions';

/**
 * The Deploy step (procedure step 8) as pure rules: the phases a deploy goes through, what its
 * evidence records, the promotion rules between a project's environments, and which recovery a
 * failed deploy offers. No I/O: lib/services/deploy.ts loads the facts and asks these.
 */

/** A deploy's phases, in order (Deployment.phase and Deployment.phases). */
export const DEPLOY_PHASES = ['commit', 'push', 'backup', 'apply', 'verify', 'data_loss', 'health'] as const;
export type DeployPhase = (typeof DEPLOY_PHASES)[number];

export const DEPLOY_PHASE_LABELS: Record<DeployPhase, string> = {
  commit: 'Commit migration files and bump the patch version',
  push: 'Push to the deploy branch',
  backup: 'Fresh backup of the target, verified',
  apply: 'Apply through the runner',
  verify: 'Recorded as applied (_prisma_migrations)',
  data_loss: 'No-data-loss check',
  health: 'Health check',
};

/** Phases from which on the target may have been changed: a failure there offers recovery. */
export const TARGET_CHANGING_PHASES: readonly DeployPhase[] = ['apply', 'verify', 'data_loss', 'health'];
const changedTarget = (phase: string | null) => !!phase && (TARGET_CHANGING_PHASES as readonly string[]).includes(phase);

export const DeployPhaseRecordSchema = z.looseObject({
  phase: z.enum(DEPLOY_PHASES),
  status: z.enum(['running', 'ok', 'failed', 'skipped']),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  detail: z.string().optional(),
});
export type DeployPhaseRecord = z.infer<typeof DeployPhaseRecordSchema>;
export const DeployPhasesSchema = z.array(DeployPhaseRecordSchema);

/** Reads Deployment.phases; rows written by an older shape read as no phases rather than failing the page. */
export function readDeployPhases(value: unknown): DeployPhaseRecord[] {
  const parsed = DeployPhasesSchema.safeParse(value);
  return parsed.success ? parsed.data : [];
}

/** The phases with `phase` started (or replaced when it is already there), as the next value of Deployment.phases. */
export function startPhase(phases: readonly DeployPhaseRecord[], phase: DeployPhase, at: Date): DeployPhaseRecord[] {
  return [...phases.filter((p) => p.phase !== phase), { phase, status: 'running', startedAt: at.toISOString(), finishedAt: null }];
}

/** The phases with `phase` ended ok/failed/skipped, with its detail in words. */
export function endPhase(
  phases: readonly DeployPhaseRecord[],
  phase: DeployPhase,
  status: 'ok' | 'failed' | 'skipped',
  at: Date,
  detail?: string,
): DeployPhaseRecord[] {
  const existing = phases.find((p) => p.phase === phase);
  const ended: DeployPhaseRecord = {
    phase, status, startedAt: existing?.startedAt ?? at.toISOString(), finishedAt: at.toISOString(), ...(detail ? { detail: detail.slice(0, 2000) } : {}),
  };
  return existing ? phases.map((p) => (p.phase === phase ? ended : p)) : [...phases, ended];
}

/** What a health check found (lib/health/check.ts), as a deploy records it. */
export const DeployHealthSchema = z.looseObject({
  url: z.string(),
  ok: z.boolean(),
  status: z.number().nullable(),
  latencyMs: z.number(),
  error: z.string().nullable(),
  attempts: z.number().int(),
});

/**
 * The `deploy` evidence record: one deploy of a revision to one environment. Passed only when
 * every phase passed; a failed deploy's record says where it stopped (the fields it never
 * reached are null).
 */
export const DeployEvidenceSchema = z.looseObject({
  deploymentId: z.string(),
  environment: z.looseObject({ id: z.string(), name: z.string(), position: z.number().int(), production: z.boolean() }),
  commit: z.string().nullable(),
  version: z.string().nullable(),
  /** true when the branch already carried identical files for this revision (an earlier environment's deploy). */
  commitReused: z.boolean().optional(),
  backupArtifactId: z.string().nullable(),
  applied: z.looseObject({ migration: z.string(), recorded: z.boolean(), alreadyApplied: z.boolean().optional() }).nullable(),
  dataLoss: z.looseObject({ ok: z.boolean(), summary: z.string() }).nullable(),
  /** null: the environment has no health-check URL (nothing to poll). */
  health: DeployHealthSchema.nullable(),
  failedPhase: z.enum(DEPLOY_PHASES).nullable().optional(),
  error: z.string().nullable().optional(),
});
export type DeployEvidence = z.infer<typeof DeployEvidenceSchema>;

// ---- promotion ------------------------------------------------------------------------------

export interface PromotionEnvironment {
  id: string;
  name: string;
  position: number;
  requiresApproval: boolean;
}

/** What decides whether a request may be deployed to an environment now. */
export interface PromotionFacts {
  /** The project's environments in any order. */
  environments: readonly PromotionEnvironment[];
  environmentId: string;
  /** The request's current revision, or null before the first. */
  revision: { id: string; revision: number } | null;
  /** A passing rehearsal of that revision exists (lib/services/gate.ts passingRehearsal). */
  rehearsalPassed: boolean;
  /** Environment ids with a succeeded (not since recovered) deploy of that revision. */
  succeededEnvironmentIds: ReadonlySet<string>;
  /** A deploy of this request that is queued or running, whatever the environment. */
  activeDeployment: { environmentName: string } | null;
  /** For environments that require approval: whether the quality gate passed, and what it waits for when not. */
  gate: { passed: boolean; missing: string } | null;
  /** For environments that require approval: a lead's approval of this revision there, still valid. */
  approval: { approvedByName: string } | null;
}

export interface PromotionRefusal {
  code: 'conflict' | 'forbidden';
  message: string;
}

/**
 * Why the request may not be deployed to the environment now, or null when it may. In order: one
 * deploy at a time, a revision, a passing rehearsal of it, every earlier environment succeeded
 * with it, and for an environment that requires approval the gate passed and a lead's approval.
 */
export function promotionRefusal(f: PromotionFacts): PromotionRefusal | null {
  const ordered = [...f.environments].sort((a, b) => a.position - b.position);
  const env = ordered.find((e) => e.id === f.environmentId);
  if (!env) return { code: 'conflict', message: "That environment is not one of this request's project." };
  if (f.activeDeployment) {
    return { code: 'conflict', message: `A deploy of this request (to ${f.activeDeployment.environmentName}) is already queued or running; wait for it to finish.` };
  }
  if (!f.revision) return { code: 'conflict', message: 'Save the migration (Create migration) before deploying it.' };
  if (!f.rehearsalPassed) {
    return { code: 'conflict', message: `Revision ${f.revision.revision} has no passing rehearsal: rehearse it (Test migration locally) before deploying it anywhere.` };
  }
  const missing = ordered.filter((e) => e.position < env.position && !f.succeededEnvironmentIds.has(e.id));
  if (missing.length) {
    return {
      code: 'conflict',
      message: `Deploy revision ${f.revision.revision} to ${missing.map((e) => e.name).join(', then ')} first: ${env.name} comes after ${missing.length === 1 ? 'it' : 'them'}.`,
    };
  }
  if (env.requiresApproval) {
    if (!f.gate?.passed) return { code: 'conflict', message: `${env.name} needs the quality gate passed first. ${f.gate?.missing ?? ''}`.trim() };
    if (!f.approval) return { code: 'conflict', message: `${env.name} needs a lead's approval of revision ${f.revision.revision} first (a lead who is not the author approves it on the Deploy step).` };
  }
  return null;
}

/**
 * Why this person may not approve the deploy of this request (null when they may): a lead who is
 * a person, and a second pair of eyes: not its filer, not the author of any of its revisions (nor
 * the owner of an agent that wrote one), not a signer of its current revision's gate (the lists
 * are omitted where not loaded yet).
 */
export function approvalRefusal(
  actor: Party & { roles: readonly string[]; kind?: string },
  request: { authorId: string; revisionAuthors?: readonly Party[]; gateSigners?: readonly Party[] },
): string | null {
  // Fails closed: an actor whose kind is not known to be a person does not approve.
  if (actor.kind !== 'person') return PEOPLE_ONLY_MESSAGE;
  if (!actor.roles.includes('lead')) return 'Only a lead can approve a deploy to an environment that requires approval.';
  if (actor.id === request.authorId) return 'The author of the request cannot approve its deploy: another lead approves it.';
  const wrote = samePersonAs(actor, request.revisionAuthors ?? [], 'wrote a revision of this migration');
  if (wrote) return `${wrote}, so you cannot approve its deploy: another lead approves it.`;
  const signed = samePersonAs(actor, request.gateSigners ?? [], 'signed the quality gate of this revision');
  if (signed) return `${signed}, so you cannot also approve its deploy: another lead approves it.`;
  return null;
}

// ---- recovery -------------------------------------------------------------------------------

export type RecoveryKind = 'down' | 'restore';

export interface RecoveryFacts {
  status: string;
  /** The phase it stopped in. */
  phase: string | null;
  backupArtifactId: string | null;
  /** The revision has a down.sql. */
  hasDown: boolean;
  /** Whether the migration is recorded as applied on the target (null: not known). */
  applied: boolean | null;
  /** A recovery run of this deployment is queued or running. */
  recovering: boolean;
  /** A succeeded deploy still watched (before verifyUntil) with an open alert: a failing post-deployment check. */
  alerting: boolean;
  /** A later change of the same target (apply, down, deploy, restore run after this deploy), in words, or null. */
  laterChange: string | null;
}

/**
 * The recoveries a deployment offers: a failed one that may have changed its target, or a
 * succeeded one still watched whose checks fail (an alert's "Roll back"); never once the target
 * was changed again since (a restore would wipe that change and everything written after it).
 * The down path needs the migration applied and a down.sql; a restore needs the pre-deploy backup.
 */
export function recoveryOptions(f: RecoveryFacts): RecoveryKind[] {
  if (f.recovering || f.laterChange) return [];
  if (f.status !== 'failed' && f.status !== 'succeeded') return [];
  if (f.status === 'succeeded' && !f.alerting) return [];
  if (f.status === 'failed' && !changedTarget(f.phase)) return [];
  const options: RecoveryKind[] = [];
  if (f.hasDown && f.applied !== false) options.push('down');
  if (f.backupArtifactId) options.push('restore');
  return options;
}

/** Why a recovery may not be started, in words, or null. */
export function recoveryRefusal(kind: RecoveryKind, f: RecoveryFacts): string | null {
  if (recoveryOptions(f).includes(kind)) return null;
  if (f.recovering) return 'A recovery of this deploy is already queued or running.';
  if (f.laterChange) {
    return `The target was changed again after this deploy (${f.laterChange}): recovering this deploy now would undo that change too. Recover from the latest change instead.`;
  }
  if (f.status !== 'failed' && f.status !== 'succeeded') return `This deploy is ${f.status}: only a failed or a succeeded deploy is rolled back.`;
  if (f.status === 'succeeded' && !f.alerting) {
    return 'This deploy succeeded: it is rolled back only while its post-deployment checks still watch it and one of them is failing (an open alert).';
  }
  if (f.status === 'failed' && !changedTarget(f.phase)) {
    return `This deploy stopped before it changed the target (in ${f.phase ?? 'its start'}): there is nothing to recover; deploy again.`;
  }
  if (kind === 'down') return f.hasDown ? 'The migration is not recorded as applied on the target: there is nothing to roll back; restore the backup if the target was changed.' : 'The revision has no down.sql: restore the pre-deploy backup instead.';
  return 'This deploy has no pre-deploy backup to restore.';
}

/** As `npm version patch`: "1.4.2" -> "1.4.3", a pre-release "1.4.3-rc.1" -> "1.4.3"; null when it is not semver. */
export function bumpPatch(version: string): string | null {
  const m = /^(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.exec(version.trim());
  if (!m) return null;
  return m[4] ? `${m[1]}.${m[2]}.${m[3]}` : `${m[1]}.${m[2]}.${Number(m[3]) + 1}`;
}
