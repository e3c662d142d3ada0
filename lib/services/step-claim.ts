import type { Db, Tx } from '../db/client';
import type { LoadedActor } from '../auth/actor';
import { assertClaimAllows } from './work-task';

/** What assertStepClaimAllows reads of a step. */
export const STEP_CLAIM_FIELDS = { subject: true, status: true, assigneeId: true } as const;

/**
 * The evidence a claimed step rests on is its holder's to produce: anyone who could not work the
 * step under its claim (assertClaimAllows: another agent; a person other than the agent's owner or
 * an admin) is refused naming the holder, before anything is written. A step nobody holds (pending,
 * or completed) takes the evidence of whoever its roles allow. Call it inside the writing transaction.
 */
export async function assertStepClaimAllows(
  db: Db | Tx,
  actor: LoadedActor,
  step: { subject: string; status: string; assigneeId: string | null } | null | undefined,
) {
  if (!step || (step.status !== 'in_progress' && step.status !== 'blocked')) return;
  await assertClaimAllows(db, actor, step);
}
