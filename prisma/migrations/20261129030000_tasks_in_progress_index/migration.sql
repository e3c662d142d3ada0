-- The board's "Agents at work" reads the tasks in progress (at most one or two per open request) out of
-- every task ever created (nine per request): an index on (status, started_at) keeps that read small
-- as history grows, in the order the board shows them.
CREATE INDEX "tasks_status_started_at_idx" ON "tasks"("status", "started_at");
