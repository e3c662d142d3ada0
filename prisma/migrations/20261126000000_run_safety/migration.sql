-- AlterEnum
ALTER TYPE "RunStatus" ADD VALUE 'cancelled';
ALTER TYPE "RunStatus" ADD VALUE 'timed_out';

-- AlterTable
ALTER TABLE "target_databases" ADD COLUMN "run_deadline_ms" INTEGER NOT NULL DEFAULT 1800000,
ADD COLUMN "allowed_statement_kinds" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN "rehearsal_server_encrypted" TEXT;

-- AlterTable
ALTER TABLE "runs" ADD COLUMN "deadline_at" TIMESTAMPTZ(3),
ADD COLUMN "cancel_requested_at" TIMESTAMPTZ(3),
ADD COLUMN "cancel_requested_by_id" UUID,
ADD COLUMN "frozen_settings" JSONB,
ADD COLUMN "job_id" TEXT;

-- AlterTable
ALTER TABLE "migration_requests" ADD COLUMN "source_migration" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "migration_requests_target_id_source_migration_key" ON "migration_requests"("target_id", "source_migration");

-- CreateTable
CREATE TABLE "app_settings" (
    "key" TEXT NOT NULL,
    "value" JSONB NOT NULL,
    "updated_by_id" UUID,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "app_settings_pkey" PRIMARY KEY ("key")
);
