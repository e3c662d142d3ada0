-- AlterEnum
ALTER TYPE "RunKind" ADD VALUE 'status';

-- AlterTable
ALTER TABLE "runs" ADD COLUMN "folder_id" UUID;

-- CreateTable
CREATE TABLE "migration_folders" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "migrations" JSONB NOT NULL,
    "imported_by_id" UUID NOT NULL,
    "imported_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "migration_folders_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "migration_folders_imported_at_idx" ON "migration_folders"("imported_at" DESC);

-- AddForeignKey
ALTER TABLE "runs" ADD CONSTRAINT "runs_folder_id_fkey" FOREIGN KEY ("folder_id") REFERENCES "migration_folders"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "migration_folders" ADD CONSTRAINT "migration_folders_imported_by_id_fkey" FOREIGN KEY ("imported_by_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
