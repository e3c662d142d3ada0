-- AlterEnum
ALTER TYPE "RunKind" ADD VALUE 'analysis';
ALTER TYPE "RunKind" ADD VALUE 'backup';
ALTER TYPE "RunKind" ADD VALUE 'drill';
ALTER TYPE "RunKind" ADD VALUE 'drift';

-- CreateEnum
CREATE TYPE "EvidenceKind" AS ENUM ('analysis', 'lock_impact', 'backup', 'drill', 'data_loss', 'drift');

-- AlterTable
ALTER TABLE "target_databases" ADD COLUMN "file_path" TEXT,
ADD COLUMN "lock_impact_threshold_ms" INTEGER NOT NULL DEFAULT 1000;

-- AlterTable
ALTER TABLE "migration_requests" ADD COLUMN "desired_changes" TEXT,
ADD COLUMN "migration_strategy" TEXT;

-- AlterTable
ALTER TABLE "migration_revisions" ADD COLUMN "declared_changes" JSONB;

-- AlterTable
ALTER TABLE "runs" ADD COLUMN "artifact_id" UUID;

-- CreateTable
CREATE TABLE "evidence" (
    "id" UUID NOT NULL,
    "kind" "EvidenceKind" NOT NULL,
    "target_id" UUID NOT NULL,
    "request_id" UUID,
    "run_id" UUID,
    "revision_id" UUID,
    "revision_sha256" TEXT,
    "target_settings_version" TEXT NOT NULL,
    "passed" BOOLEAN NOT NULL,
    "summary" TEXT NOT NULL,
    "detail" JSONB NOT NULL,
    "hashes" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "evidence_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "artifacts" (
    "id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "store_key" TEXT NOT NULL,
    "sha256" TEXT NOT NULL,
    "size_bytes" BIGINT NOT NULL,
    "media_type" TEXT NOT NULL,
    "target_id" UUID,
    "run_id" UUID,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "artifacts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "destructive_acknowledgements" (
    "id" UUID NOT NULL,
    "request_id" UUID NOT NULL,
    "revision_id" UUID NOT NULL,
    "operation_key" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "note" TEXT NOT NULL,
    "acknowledged_by_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "destructive_acknowledgements_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "evidence_request_id_kind_created_at_idx" ON "evidence"("request_id", "kind", "created_at" DESC);
CREATE INDEX "evidence_target_id_kind_created_at_idx" ON "evidence"("target_id", "kind", "created_at" DESC);
CREATE UNIQUE INDEX "artifacts_store_key_key" ON "artifacts"("store_key");
CREATE INDEX "artifacts_target_id_kind_created_at_idx" ON "artifacts"("target_id", "kind", "created_at" DESC);
CREATE UNIQUE INDEX "destructive_acknowledgements_revision_id_operation_key_key" ON "destructive_acknowledgements"("revision_id", "operation_key");

-- AddForeignKey
ALTER TABLE "runs" ADD CONSTRAINT "runs_artifact_id_fkey" FOREIGN KEY ("artifact_id") REFERENCES "artifacts"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "evidence" ADD CONSTRAINT "evidence_target_id_fkey" FOREIGN KEY ("target_id") REFERENCES "target_databases"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "evidence" ADD CONSTRAINT "evidence_request_id_fkey" FOREIGN KEY ("request_id") REFERENCES "migration_requests"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "evidence" ADD CONSTRAINT "evidence_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "evidence" ADD CONSTRAINT "evidence_revision_id_fkey" FOREIGN KEY ("revision_id") REFERENCES "migration_revisions"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "artifacts" ADD CONSTRAINT "artifacts_target_id_fkey" FOREIGN KEY ("target_id") REFERENCES "target_databases"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "artifacts" ADD CONSTRAINT "artifacts_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "destructive_acknowledgements" ADD CONSTRAINT "destructive_acknowledgements_request_id_fkey" FOREIGN KEY ("request_id") REFERENCES "migration_requests"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "destructive_acknowledgements" ADD CONSTRAINT "destructive_acknowledgements_revision_id_fkey" FOREIGN KEY ("revision_id") REFERENCES "migration_revisions"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "destructive_acknowledgements" ADD CONSTRAINT "destructive_acknowledgements_acknowledged_by_id_fkey" FOREIGN KEY ("acknowledged_by_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
