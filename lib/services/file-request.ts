import { randomUUID } from 'node:crypto';
import { getDb, type Tx } from '../db/client';
import { DomainError, forbidden } from '../domain/errors';
import { canFileRequest } from '../domain/permissions';
import { CURRENT_TEMPLATE, planWorkflow, type WorkflowTemplateDefinition } from '../domain/procedure';
import { loadActor } from '../auth/actor';
import type { FileRequestInput } from '../validation/request';
import { recordAudit } from './audit';
import { projectForFiling } from './projects';

/**
 * Files a migration request and creates its workflow from the newest version of the
 * procedure template, all in one transaction with its audit row.
 */
export async function fileRequest(actorId: string, input: FileRequestInput) {
  return getDb().$transaction(async (tx) => fileRequestInTransaction(tx, await loadActor(tx, actorId), input));
}

/**
 * The same, inside the caller's transaction, for use cases that file a request as one of their
 * steps (a pending migration becoming a request); `sourceMigration` names the migration it came from.
 */
export async function fileRequestInTransaction(tx: Tx, actor: Awaited<ReturnType<typeof loadActor>>, input: FileRequestInput, extra: { sourceMigration?: string } = {}) {
  if (!canFileRequest(actor)) throw forbidden('Filing migration requests needs the engineer, lead or admin role.');

  const target = await tx.targetDatabase.findUnique({ where: { id: input.targetId }, select: { id: true, name: true } });
  if (!target) throw new DomainError('invalid', 'That target database does not exist.', 'targetId');

  const project = await projectForFiling(tx, input.projectId);

  const template = await tx.workflowTemplate.findFirst({
    where: { key: CURRENT_TEMPLATE.key },
    orderBy: { version: 'desc' },
  });
  if (!template) throw new DomainError('conflict', 'The workflow template is missing; restart Cutover to seed it.');
  const plan = planWorkflow(template.definition as unknown as WorkflowTemplateDefinition);
  const definition = template.definition as unknown as WorkflowTemplateDefinition;

  const request = await tx.migrationRequest.create({
    data: {
      title: input.title,
      kind: input.kind,
      description: input.description,
      priority: input.priority,
      targetId: target.id,
      authorId: actor.id,
      templateId: template.id,
      currentStep: 1,
      currentSubject: plan[0].subject,
      currentOwner: plan[0].owner,
      totalSteps: plan.length,
      sourceMigration: extra.sourceMigration ?? null,
      projectId: project?.id ?? null,
      appBranch: project ? (input.appBranch ?? null) : null,
    },
  });

  // Ids are made here so that each task's blockedBy can point at the one before in one insert.
  const taskIds = plan.map(() => randomUUID());
  await tx.task.createMany({
    data: plan.map((t, i) => ({
      id: taskIds[i],
      requestId: request.id,
      position: t.position,
      key: t.key,
      subject: t.subject,
      description: t.description,
      activeForm: t.activeForm,
      owner: t.owner,
      eligibleRoles: t.eligibleRoles,
      isGate: t.isGate,
      blockedById: t.blockedByPosition === null ? null : taskIds[t.blockedByPosition - 1],
    })),
  });
  await tx.checklistItem.createMany({
    data: plan.flatMap((t, i) => t.checklist.map((label, j) => ({ taskId: taskIds[i], position: j + 1, label }))),
  });
  await tx.gateItem.createMany({
    data: definition.gateItems.map((g, i) => ({ requestId: request.id, position: i + 1, key: g.key, label: g.label })),
  });

  await recordAudit(tx, {
    actorId: actor.id,
    requestId: request.id,
    action: 'request.filed',
    entityType: 'MigrationRequest',
    entityId: request.id,
    after: {
      number: request.number,
      title: request.title,
      kind: request.kind,
      priority: request.priority,
      target: target.name,
      ...(project ? { project: project.name, appBranch: input.appBranch ?? null } : {}),
      template: `${template.key} v${template.version}`,
    },
  });
  return { id: request.id, number: request.number };
}
