-- The board's "Agents at work" reads the tasks in progress (at most one or two per open request) out of
-- every task ever created (nine per request): a partial index keeps that read small as history grows.
-- schema.prisma states the columns only (Prisma has no partial indexes).
CREATE INDEX "tasks_in_progress_started_at_idx" ON "tasks" ("started_at") WHERE "status" = 'in_progress';
