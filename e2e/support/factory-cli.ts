/**
 * Builds e2e data through the real services, in a tsx process of its own: Playwright's
 * TypeScript loader cannot load the generated Prisma client (ESM with import.meta).
 *
 *   tsx e2e/support/factory-cli.ts '{"op":"createUser","roles":["engineer"]}'
 *
 * Prints one line `FACTORY_RESULT <json>` (or exits 1 with the error on stderr).
 */
import { randomBytes } from 'node:crypto';
import { disconnectDb, getDb } from '../../lib/db/client';
import type { AgentRole, Priority, RequestKind, Role } from '../../lib/domain/roles';
import { fileRequest } from '../../lib/services/file-request';
import { createUser } from '../../lib/services/manage-users';
import { ADMIN_EMAIL, DEMO_TARGET, USER_PASSWORD, serverEnv } from './env';

export type FactoryOp =
  | { op: 'createUser'; name?: string; roles?: Role[]; agentRoles?: AgentRole[] }
  | { op: 'fileRequest'; authorId: string; title?: string; kind?: RequestKind; priority?: Priority; description?: string; targetName?: string }
  | { op: 'advance'; requestId: string; through: number; actorId?: string }
  | { op: 'snapshot'; requestId: string }
  /** Records a step's evidence directly (issue 8: steps Cutover checks wait for it), as `actorId` where a revision must be saved. */
  | { op: 'satisfyStep'; requestId: string; stepKey: string; actorId?: string };

async function adminId(): Promise<string> {
  const admin = await getDb().user.findUnique({ where: { email: ADMIN_EMAIL }, select: { id: true } });
  if (!admin) throw new Error(`No admin ${ADMIN_EMAIL}: did the e2e server start?`);
  return admin.id;
}

/** Tasks, checklists and gate items as the specs see them. */
async function snapshot(requestId: string) {
  const r = await getDb().migrationRequest.findUniqueOrThrow({
    where: { id: requestId },
    include: {
      tasks: { orderBy: { position: 'asc' }, include: { checklist: { orderBy: { position: 'asc' } } } },
      gateItems: { orderBy: { position: 'asc' }, include: { signedBy: { select: { name: true } } } },
    },
  });
  return {
    id: r.id,
    number: r.number,
    title: r.title,
    status: r.status,
    tasks: r.tasks.map((t) => ({
      id: t.id, position: t.position, subject: t.subject, status: t.status, isGate: t.isGate,
      checklist: t.checklist.map((c) => ({ id: c.id, label: c.label, done: c.done })),
    })),
    gateItems: r.gateItems.map((g) => ({ id: g.id, label: g.label, signedBy: g.signedBy?.name ?? null, note: g.note })),
  };
}

async function run(cmd: FactoryOp): Promise<unknown> {
  switch (cmd.op) {
    case 'createUser': {
      const tag = randomBytes(4).toString('hex');
      const name = cmd.name ? `${cmd.name} ${tag}` : `E2E person ${tag}`;
      const email = `user-${tag}@e2e.test`;
      const { id } = await createUser(await adminId(), {
        email, name, password: USER_PASSWORD, roles: cmd.roles ?? ['engineer'], agentRoles: cmd.agentRoles ?? [],
      });
      return { id, email, name, password: USER_PASSWORD };
    }
    case 'fileRequest': {
      const targetName = cmd.targetName ?? DEMO_TARGET;
      const target = await getDb().targetDatabase.findUniqueOrThrow({ where: { name: targetName }, select: { id: true } });
      const { id } = await fileRequest(cmd.authorId, {
        title: cmd.title ?? `E2E request ${randomBytes(3).toString('hex')}`,
        kind: cmd.kind ?? 'table_column_change',
        priority: cmd.priority ?? 'HIGH',
        description: cmd.description ?? 'Add a loyalty_points column to customers, default 0.',
        targetId: target.id,
      });
      return snapshot(id);
    }
    case 'advance': {
      // Works each ordinary step: start, its evidence recorded directly (issue 8: steps Cutover checks
      // wait for it), the items ticked by hand, complete.
      const actorId = cmd.actorId ?? (await adminId());
      const before = await snapshot(cmd.requestId);
      const { completeStepWithEvidence } = await import('../../tests/support/step-evidence');
      for (const task of before.tasks.filter((t) => t.position <= cmd.through)) {
        if (task.isGate) throw new Error('advance works ordinary steps only; sign the gate through the UI.');
        if (task.status === 'completed') continue;
        await completeStepWithEvidence(actorId, cmd.requestId, task.position);
      }
      return snapshot(cmd.requestId);
    }
    case 'snapshot':
      return snapshot(cmd.requestId);
    case 'satisfyStep': {
      const { satisfyStepEvidence } = await import('../../tests/support/step-evidence');
      await satisfyStepEvidence(cmd.requestId, cmd.stepKey, cmd.actorId ?? (await adminId()));
      return snapshot(cmd.requestId);
    }
  }
}

async function main() {
  for (const [k, v] of Object.entries(serverEnv)) process.env[k] = v;
  const cmd = JSON.parse(process.argv[2] ?? '{}') as FactoryOp;
  try {
    const result = await run(cmd);
    process.stdout.write(`FACTORY_RESULT ${JSON.stringify(result)}\n`);
  } finally {
    await disconnectDb();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? `${err.name}: ${err.message}` : err);
  process.exit(1);
});
