import { z } from 'zod';

/**
 * POST /api/v1/migration-folders: the body is the archive's bytes as they are (no multipart), its
 * file name in the query. The name is only a label for the folder.
 */
export const ImportArchiveQuerySchema = z.object({
  name: z.string().max(1000, 'At most 1000 characters.').optional(),
});
export type ImportArchiveQuery = z.infer<typeof ImportArchiveQuerySchema>;

/** What the import answers: the folder's id and how many migrations it holds. */
export interface ImportedFolder {
  id: string;
  migrations: number;
}
