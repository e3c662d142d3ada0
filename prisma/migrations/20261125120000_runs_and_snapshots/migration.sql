-- CreateEnum
CREATE TYPE "RunKind" AS ENUM ('snapshot');

-- CreateEnum
CREATE TYPE "RunStatus" AS ENUM ('queued', 'running', 'succeeded', 'failed', 'interrupted');

-- CreateTable
CREATE TABLE "runs" (
    "id" UUID NOT NULL,
    "kind" "RunKind" NOT NULL,
    "status" "RunStatus" NOT NULL DEFAULT 'queued',
    "target_id" UUID NOT NULL,
    "request_id" UUID,
    "requested_by_id" UUID NOT NULL,
    "phase" TEXT,
    "progress" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "result" JSONB,
    "queued_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "schema_snapshots" (
    "id" UUID NOT NULL,
    "target_id" UUID NOT NULL,
    "run_id" UUID,
    "hash" TEXT NOT NULL,
    "server_version" TEXT NOT NULL,
    "shape" JSONB NOT NULL,
    "stats" JSONB NOT NULL,
    "taken_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "schema_snapshots_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "runs_request_id_queued_at_idx" ON "runs"("request_id", "queued_at" DESC);

-- CreateIndex
CREATE INDEX "runs_status_idx" ON "runs"("status");

-- CreateIndex
CREATE UNIQUE INDEX "schema_snapshots_run_id_key" ON "schema_snapshots"("run_id");

-- CreateIndex
CREATE INDEX "schema_snapshots_target_id_taken_at_idx" ON "schema_snapshots"("target_id", "taken_at" DESC);

-- AddForeignKey
ALTER TABLE "runs" ADD CONSTRAINT "runs_target_id_fkey" FOREIGN KEY ("target_id") REFERENCES "target_databases"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "runs" ADD CONSTRAINT "runs_request_id_fkey" FOREIGN KEY ("request_id") REFERENCES "migration_requests"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "runs" ADD CONSTRAINT "runs_requested_by_id_fkey" FOREIGN KEY ("requested_by_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "schema_snapshots" ADD CONSTRAINT "schema_snapshots_target_id_fkey" FOREIGN KEY ("target_id") REFERENCES "target_databases"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "schema_snapshots" ADD CONSTRAINT "schema_snapshots_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs"("id") ON DELETE SET NULL ON UPDATE CASCADE;
