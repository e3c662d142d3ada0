-- CreateIndex
CREATE INDEX "tasks_blocked_by_id_idx" ON "tasks"("blocked_by_id");
