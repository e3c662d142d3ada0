-- AlterTable
ALTER TABLE "migration_revisions" ADD COLUMN "plan" JSONB;
