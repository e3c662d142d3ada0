import { getDb, type Db, type Tx } from '../db/client';
import { DomainError } from '../domain/errors';
import { EVIDENCE_DETAIL_SCHEMAS, EvidenceHashesSchema, type EvidenceDetailOf, type EvidenceKindName } from '../domain/evidence-schemas';
import type { InputJsonValue } from '../generated/prisma/internal/prismaNamespace';
import { gateItemsRestingOn } from '../domain/gate';
import { AppSchemaEvidenceSchema, appSourceChange } from '../domain/app-schema';
import { targetSettingsVersion } from './runs';
import { voidGateSignatures } from './void-gate-signatures';

export interface EvidenceInput<K extends EvidenceKindName> {
  kind: K;
  targetId: string;
  requestId?: string | null;
  runId?: string | null;
  /** The migration revision it was produced on; its checksum (sha256 of migration.sql) is kept with the record. */
  revision?: { id: string; checksum: string } | null;
  passed: boolean;
  /** One line for lists ("risk high: 2 destructive operations"). */
  summary: string;
  /** The kind's result; must match EVIDENCE_DETAIL_SCHEMAS[kind]. */
  detail: EvidenceDetailOf<K>;
  /** Hashes it rests on: dump sha256, snapshot hashes, checksums digest. */
  hashes?: Record<string, string>;
}

/**
 * Records one piece of evidence inside the caller's transaction (with the run's outcome: see
 * completeEvidenceRun's `alsoInTx`): what ran, on which revision (its sha256), on which target
 * settings (targetSettingsVersion, computed here from the target as it is now), with which hashes.
 * A detail its kind's schema refuses is refused (DomainError 'invalid'): evidence is never vague.
 */
export async function recordEvidence<K extends EvidenceKindName>(tx: Tx, input: EvidenceInput<K>): Promise<{ id: string; targetSettingsVersion: string }> {
  const hashes = EvidenceHashesSchema.safeParse(input.hashes ?? {});
  if (!hashes.success) throw new DomainError('invalid', `The ${input.kind} evidence's hashes must be names to hex strings.`);
  const detail = EVIDENCE_DETAIL_SCHEMAS[input.kind].safeParse(input.detail);
  if (!detail.success) {
    throw new DomainError('invalid', `The ${input.kind} evidence does not match its schema: ${detail.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(detail)'}: ${i.message}`).join('; ')}`);
  }
  const target = await tx.targetDatabase.findUniqueOrThrow({ where: { id: input.targetId } });
  const version = targetSettingsVersion(target);
  const row = await tx.evidence.create({
    data: {
      kind: input.kind, targetId: target.id, requestId: input.requestId ?? null, runId: input.runId ?? null,
      revisionId: input.revision?.id ?? null, revisionSha256: input.revision?.checksum ?? null,
      targetSettingsVersion: version, passed: input.passed, summary: input.summary.slice(0, 500),
      detail: detail.data as InputJsonValue, hashes: hashes.data,
    },
  });
  // Newer evidence that fails voids the gate signatures of the items resting on its kind.
  const items = input.passed || !input.requestId ? [] : gateItemsRestingOn(input.kind);
  if (items.length) await voidGateSignatures(tx, input.requestId!, { reason: `A newer ${input.kind.replace('_', ' ')} record failed: ${input.summary.slice(0, 300)}`, itemKeys: items, unlessDeployed: true });
  return { id: row.id, targetSettingsVersion: version };
}

type EvidenceRow = NonNullable<Awaited<ReturnType<Db['evidence']['findFirst']>>>;

/**
 * An evidence record as pages and the gate read it: its detail parsed with its kind's schema
 * (null when a stored detail no longer matches), and whether it still holds: `staleBecause` says
 * why not (the migration changed since, or the target's settings did). The gate voids stale ones.
 */
export interface EvidenceView<K extends EvidenceKindName = EvidenceKindName> {
  id: string;
  kind: K;
  /** The target it ran on (a drill or a deploy may be of another target than the request's own). */
  targetId: string;
  runId: string | null;
  revisionId: string | null;
  revisionSha256: string | null;
  targetSettingsVersion: string;
  passed: boolean;
  summary: string;
  detail: EvidenceDetailOf<K> | null;
  hashes: Record<string, string>;
  createdAt: Date;
  staleBecause: string | null;
}

function viewOf<K extends EvidenceKindName>(row: EvidenceRow, now: Basis): EvidenceView<K> {
  const kind = row.kind as K;
  const detail = EVIDENCE_DETAIL_SCHEMAS[kind].safeParse(row.detail);
  if (!detail.success) console.error(`[cutover] evidence ${row.id} (${kind}) no longer matches its schema:`, detail.error.issues.slice(0, 3));
  const hashes = EvidenceHashesSchema.safeParse(row.hashes);
  // Evidence holds for the revision it was produced on only while that revision is the latest:
  // revisions are never edited, and a new one may change up, down, data SQL or the declared changes
  // (which the checksum, migration.sql's sha256, does not cover).
  const revisionStale = row.revisionId !== null ? row.revisionId !== now.revisionId : row.revisionSha256 !== null && row.revisionSha256 !== now.revisionSha256;
  const staleBecause =
    revisionStale
      ? `The migration changed after this evidence was produced: it rests on revision ${now.revisionNumbers.get(row.revisionId ?? '') ?? '(deleted)'}, and the latest is revision ${now.revision ?? '(none)'}.`
      : row.targetSettingsVersion !== (now.settingsVersions.get(row.targetId) ?? now.settingsVersion) ? "The target's settings changed after this evidence was produced."
        : appSourceStale(row, now);
  return {
    id: row.id, kind, targetId: row.targetId, runId: row.runId, revisionId: row.revisionId, revisionSha256: row.revisionSha256,
    targetSettingsVersion: row.targetSettingsVersion, passed: row.passed, summary: row.summary,
    detail: detail.success ? (detail.data as EvidenceDetailOf<K>) : null, hashes: hashes.success ? hashes.data : {},
    createdAt: row.createdAt, staleBecause,
  };
}

/** An app-schema comparison holds only for the project and branch the request names now. */
function appSourceStale(row: EvidenceRow, now: Basis): string | null {
  if (row.kind !== 'app_schema') return null;
  const compared = AppSchemaEvidenceSchema.safeParse(row.detail);
  return compared.success ? appSourceChange(compared.data, now.appSource) : null;
}

interface Basis {
  /** The request's latest revision (its id, number and checksum), or nulls before the first. */
  revisionId: string | null;
  revision: number | null;
  revisionSha256: string | null;
  /** Every revision's number by id, for messages. */
  revisionNumbers: Map<string, number>;
  settingsVersion: string;
  /** Settings versions of the other targets the records ran on (a drill of production's backup, a deploy). */
  settingsVersions: Map<string, string>;
  /** The request's project and app branch now: what an app-schema comparison must have read. */
  appSource: { projectId: string | null; projectName: string | null; appBranch: string | null };
}

/** The request's latest revision and its target's settings version now: what evidence must match to hold. */
async function currentBasis(db: Db | Tx, requestId: string, rows: readonly EvidenceRow[] = []): Promise<Basis> {
  const request = await db.migrationRequest.findUniqueOrThrow({ where: { id: requestId }, select: { target: true, projectId: true, appBranch: true, project: { select: { name: true } } } });
  const revisions = await db.migrationRevision.findMany({ where: { requestId }, orderBy: { revision: 'desc' }, select: { id: true, revision: true, checksum: true } });
  const latest = revisions[0];
  const otherIds = [...new Set(rows.map((r) => r.targetId))].filter((id) => id !== request.target.id);
  const others = otherIds.length ? await db.targetDatabase.findMany({ where: { id: { in: otherIds } } }) : [];
  return {
    revisionId: latest?.id ?? null, revision: latest?.revision ?? null, revisionSha256: latest?.checksum ?? null,
    revisionNumbers: new Map(revisions.map((r) => [r.id, r.revision])), settingsVersion: targetSettingsVersion(request.target),
    settingsVersions: new Map(others.map((t) => [t.id, targetSettingsVersion(t)])),
    appSource: { projectId: request.projectId, projectName: request.project?.name ?? null, appBranch: request.appBranch },
  };
}

/**
 * The request's latest evidence of a kind, or null. No access check here: readers in lib/data
 * check who is asking first (evidence holds no secrets, but is the request's).
 */
export async function latestEvidence<K extends EvidenceKindName>(requestId: string, kind: K, db: Db | Tx = getDb()): Promise<EvidenceView<K> | null> {
  const row = await db.evidence.findFirst({ where: { requestId, kind }, orderBy: { createdAt: 'desc' } });
  return row ? viewOf<K>(row, await currentBasis(db, requestId, [row])) : null;
}

/** Every evidence record of the request, newest first (at most `take`). Same access note as latestEvidence. */
export async function evidenceFor(requestId: string, options: { take?: number } = {}, db: Db | Tx = getDb()): Promise<EvidenceView[]> {
  const rows = await db.evidence.findMany({ where: { requestId }, orderBy: { createdAt: 'desc' }, take: options.take ?? 200 });
  if (rows.length === 0) return [];
  const basis = await currentBasis(db, requestId, rows);
  return rows.map((r) => viewOf(r, basis));
}
