import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { AgentRole, Priority, RequestKind, Role } from '../../lib/domain/roles';
import type { FactoryOp } from './factory-cli';

const run = promisify(execFile);
const root = path.resolve(__dirname, '../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');

export interface TestUser {
  id: string;
  email: string;
  name: string;
  password: string;
}

export interface RequestSnapshot {
  id: string;
  number: number;
  title: string;
  status: string;
  tasks: {
    id: string;
    position: number;
    subject: string;
    status: string;
    isGate: boolean;
    checklist: { id: string; label: string; done: boolean }[];
  }[];
  gateItems: { id: string; label: string; signedBy: string | null; note: string | null }[];
}

/** One factory call: a tsx process that runs the real services against the e2e store. */
async function call<T>(op: FactoryOp): Promise<T> {
  try {
    const { stdout } = await run(tsx, [path.join(__dirname, 'factory-cli.ts'), JSON.stringify(op)], { cwd: root, timeout: 60_000 });
    const line = stdout.split('\n').find((l) => l.startsWith('FACTORY_RESULT '));
    if (!line) throw new Error(`factory ${op.op} printed no result:\n${stdout}`);
    return JSON.parse(line.slice('FACTORY_RESULT '.length)) as T;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`factory ${op.op} failed: ${e.stderr?.trim() || e.message}`);
  }
}

export const factory = {
  /** A person with the given roles (engineer by default) and the shared e2e password. */
  createUser: (opts: { name?: string; roles?: Role[]; agentRoles?: AgentRole[] } = {}) =>
    call<TestUser>({ op: 'createUser', ...opts }),

  /** Files a request against the demo target (unless another target is named). */
  fileRequest: (
    author: { id: string },
    opts: { title?: string; kind?: RequestKind; priority?: Priority; description?: string; targetName?: string } = {},
  ) => call<RequestSnapshot>({ op: 'fileRequest', authorId: author.id, ...opts }),

  /** Starts, ticks and completes steps 1..through (as the admin unless an actor is given). */
  advance: (request: { id: string }, through: number, actor?: { id: string }) =>
    call<RequestSnapshot>({ op: 'advance', requestId: request.id, through, actorId: actor?.id }),
  /** Records one step's evidence directly (snapshot, revision, analysis, rehearsal, ...), passing. */
  satisfyStep: (request: { id: string }, stepKey: string) => call<RequestSnapshot>({ op: 'satisfyStep', requestId: request.id, stepKey }),

  /** The request's tasks and gate items as stored. */
  snapshot: (request: { id: string }) => call<RequestSnapshot>({ op: 'snapshot', requestId: request.id }),
};
