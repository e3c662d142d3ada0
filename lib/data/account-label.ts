import { accountLabel } from '../domain/task-shape';

/**
 * accountLabel for Prisma reads: the users columns it needs ("dba-agent (agent of Alice Smith)"),
 * to put where a read selected `{ name: true }` of whoever asked for a run or wrote a revision.
 */
export const LABELLED_ACCOUNT = { select: { name: true, kind: true, owner: { select: { name: true } } } } as const;

export type LabelledAccount = { name: string; kind: string; owner: { name: string } | null };

export const labelOf = (account: LabelledAccount): string => accountLabel({ name: account.name, kind: account.kind, owner: account.owner?.name });
