'use server';

import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import { requestSnapshot } from '../services/snapshot-runs';
import { idSchema } from '../validation/common';
import { runAction } from './run-action';

export async function requestSnapshotAction(input: unknown) {
  const result = await runAction(z.object({ requestId: idSchema }), input, (actor, data) => requestSnapshot(actor.id, data));
  if (result.ok) revalidatePath('/requests', 'layout');
  return result;
}
