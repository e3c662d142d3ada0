/**
 * Which step the request page opens, and what the request waits for and on whom. Pure: the
 * page and the board read tasks and people, and these decide the words.
 */

export interface FocusTask {
  key: string;
  position: number;
  subject: string;
  status: string;
  owner: string;
  eligibleRoles: readonly string[];
  isGate: boolean;
  blockedReason: string | null;
  assignee: string | null;
  canWork: boolean;
}

/** The request's current step: the first one not completed (none when all are done). */
export function currentTask<T extends { position: number; status: string }>(tasks: readonly T[]): T | null {
  return [...tasks].sort((a, b) => a.position - b.position).find((t) => t.status !== 'completed') ?? null;
}

/**
 * The step to open: the current one when the viewer may work it (or holds nothing at all),
 * else the first open step the viewer holds, so a DBA lands on their own work; a finished
 * request opens its last step.
 */
export function focusStep<T extends FocusTask>(tasks: readonly T[]): T | null {
  const sorted = [...tasks].sort((a, b) => a.position - b.position);
  const current = currentTask(sorted);
  if (!current) return sorted.at(-1) ?? null;
  if (current.canWork) return current;
  return sorted.find((t) => t.status !== 'completed' && t.canWork && !t.isGate) ?? sorted.find((t) => t.status !== 'completed' && t.canWork) ?? current;
}

export interface WaitingOn {
  /** One sentence: "Waits for Create migration by database-administrator (Dana)." */
  text: string;
  /** The role that acts next, null when nothing waits. */
  role: string | null;
  /** The person working it, or the people who could (first few), empty when nobody holds the role. */
  people: string[];
  blockedReason: string | null;
}

/** What a request waits for and on whom, from its current step. `holders` maps a role to the people who hold it. */
export function waitingOn(tasks: readonly FocusTask[], holders: (role: string) => string[], extra: { waitingFor?: string[] } = {}): WaitingOn {
  const t = currentTask(tasks);
  if (!t) return { text: 'Done: every step is completed.', role: null, people: [], blockedReason: null };
  const people = t.assignee ? [t.assignee] : t.eligibleRoles.flatMap((r) => holders(r)).filter((p, i, all) => all.indexOf(p) === i).slice(0, 3);
  const who = t.isGate ? 'reviewers' : t.eligibleRoles.join(' or ');
  const names = people.length ? ` (${t.assignee ? '' : 'any of '}${people.join(', ')})` : ' (nobody holds that role yet)';
  // The evidence's reasons are sentences of their own; joined, they lose their full stops.
  const what = extra.waitingFor?.length ? `: ${extra.waitingFor.map((w) => w.replace(/\.$/, '')).join('; ')}` : '';
  if (t.status === 'blocked') {
    return { text: `Blocked at ${t.subject}: ${t.blockedReason ?? 'no reason given'}. On ${who}${names}.`, role: t.owner, people, blockedReason: t.blockedReason };
  }
  const verb = t.status === 'in_progress' ? 'In progress' : 'Waits to start';
  return { text: `${verb}: ${t.subject}${what}. On ${who}${names}.`, role: t.owner, people, blockedReason: null };
}
