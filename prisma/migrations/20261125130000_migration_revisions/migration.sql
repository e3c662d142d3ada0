-- AlterEnum
ALTER TYPE "RunKind" ADD VALUE 'rehearsal';

-- AlterTable
ALTER TABLE "runs" ADD COLUMN "revision_id" UUID;

-- CreateTable
CREATE TABLE "migration_revisions" (
    "id" UUID NOT NULL,
    "request_id" UUID NOT NULL,
    "revision" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "up_sql" TEXT NOT NULL,
    "down_sql" TEXT NOT NULL,
    "data_sql" TEXT,
    "checksum" TEXT NOT NULL,
    "created_by_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "migration_revisions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "migration_revisions_request_id_revision_key" ON "migration_revisions"("request_id", "revision");

-- AddForeignKey
ALTER TABLE "runs" ADD CONSTRAINT "runs_revision_id_fkey" FOREIGN KEY ("revision_id") REFERENCES "migration_revisions"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "migration_revisions" ADD CONSTRAINT "migration_revisions_request_id_fkey" FOREIGN KEY ("request_id") REFERENCES "migration_requests"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "migration_revisions" ADD CONSTRAINT "migration_revisions_created_by_id_fkey" FOREIGN KEY ("created_by_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
