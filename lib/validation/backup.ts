import { z } from 'zod';
import { idSchema } from './common';

/** Back up the request's target, or drill the request's latest backup. */
export const BackupRunSchema = z.object({ requestId: idSchema });
export type BackupRunInput = z.infer<typeof BackupRunSchema>;

/** The restore script of a backup (GET /api/v1/backups/:id/restore-script): the bash script, or the written procedure. */
export const RestoreScriptQuerySchema = z.object({
  id: idSchema,
  format: z.enum(['script', 'procedure'], { error: 'format is script or procedure.' }).default('script'),
});
export type RestoreScriptQuery = z.infer<typeof RestoreScriptQuerySchema>;

/** The backup file itself (GET /api/v1/backups/:id/file). */
export const BackupFileQuerySchema = z.object({ id: idSchema });
export type BackupFileQuery = z.infer<typeof BackupFileQuerySchema>;
