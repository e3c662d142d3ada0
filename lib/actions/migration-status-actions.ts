'use server';

import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import { requestFromPendingMigration, requestStatusCheck } from '../services/migration-status';
import { idSchema } from '../validation/common';
import { runAction } from './run-action';

// Importing a folder is POST /api/v1/migration-folders, not an action: Next reads an action's
// whole body before the action runs, for anyone; the route checks the role first.

export async function requestStatusCheckAction(input: unknown) {
  const result = await runAction(z.object({ folderId: idSchema }), input, (actor, data) => requestStatusCheck(actor.id, data));
  if (result.ok) revalidatePath('/migrations');
  return result;
}

export async function requestFromPendingMigrationAction(input: unknown) {
  const schema = z.object({ folderId: idSchema, targetId: idSchema, migrationName: z.string().min(1).max(255) });
  const result = await runAction(schema, input, (actor, data) => requestFromPendingMigration(actor.id, data));
  if (result.ok) revalidatePath('/requests');
  return result;
}
