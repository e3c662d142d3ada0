-- AlterEnum
ALTER TYPE "RunKind" ADD VALUE 'deploy';
ALTER TYPE "RunKind" ADD VALUE 'verify';
ALTER TYPE "RunKind" ADD VALUE 'restore';
ALTER TYPE "EvidenceKind" ADD VALUE 'rehearsal';
ALTER TYPE "EvidenceKind" ADD VALUE 'revision';
ALTER TYPE "EvidenceKind" ADD VALUE 'test_report';
ALTER TYPE "EvidenceKind" ADD VALUE 'app_schema';
ALTER TYPE "EvidenceKind" ADD VALUE 'deploy';
ALTER TYPE "EvidenceKind" ADD VALUE 'verification';
ALTER TYPE "EvidenceKind" ADD VALUE 'health_check';

-- CreateEnum
CREATE TYPE "AccountKind" AS ENUM ('person', 'automation');
CREATE TYPE "DeploymentStatus" AS ENUM ('queued', 'running', 'succeeded', 'failed', 'recovered', 'cancelled');

-- AlterTable
ALTER TABLE "users" ADD COLUMN "kind" "AccountKind" NOT NULL DEFAULT 'person';
ALTER TABLE "migration_requests" ADD COLUMN "project_id" UUID,
ADD COLUMN "app_branch" TEXT;
ALTER TABLE "runs" ADD COLUMN "deployment_id" UUID;

-- CreateTable
CREATE TABLE "projects" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "repository_url" TEXT NOT NULL,
    "deploy_branch" TEXT NOT NULL DEFAULT 'main',
    "schema_path" TEXT NOT NULL DEFAULT 'prisma/schema.prisma',
    "repository_username" TEXT,
    "repository_credential_encrypted" TEXT,
    "min_gate_reviewers" INTEGER NOT NULL DEFAULT 2,
    "backup_max_age_hours" INTEGER NOT NULL DEFAULT 24,
    "verification_interval_seconds" INTEGER NOT NULL DEFAULT 300,
    "verification_window_minutes" INTEGER NOT NULL DEFAULT 60,
    "created_by_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "projects_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "project_environments" (
    "id" UUID NOT NULL,
    "project_id" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "target_id" UUID NOT NULL,
    "health_check_url" TEXT,
    "requires_approval" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "project_environments_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "gate_signatures" (
    "id" UUID NOT NULL,
    "gate_item_id" UUID NOT NULL,
    "request_id" UUID NOT NULL,
    "signed_by_id" UUID NOT NULL,
    "note" TEXT,
    "revision_id" UUID,
    "revision_sha256" TEXT,
    "evidence" JSONB NOT NULL DEFAULT '[]',
    "bound_digest" TEXT NOT NULL,
    "signed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "voided_at" TIMESTAMPTZ(3),
    "void_reason" TEXT,

    CONSTRAINT "gate_signatures_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "deployment_approvals" (
    "id" UUID NOT NULL,
    "request_id" UUID NOT NULL,
    "environment_id" UUID NOT NULL,
    "revision_id" UUID NOT NULL,
    "revision_sha256" TEXT NOT NULL,
    "approved_by_id" UUID NOT NULL,
    "note" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "voided_at" TIMESTAMPTZ(3),
    "void_reason" TEXT,

    CONSTRAINT "deployment_approvals_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "deployments" (
    "id" UUID NOT NULL,
    "request_id" UUID NOT NULL,
    "environment_id" UUID NOT NULL,
    "target_id" UUID NOT NULL,
    "revision_id" UUID NOT NULL,
    "revision_sha256" TEXT NOT NULL,
    "status" "DeploymentStatus" NOT NULL DEFAULT 'queued',
    "phase" TEXT,
    "phases" JSONB NOT NULL DEFAULT '[]',
    "commit_sha" TEXT,
    "app_version" TEXT,
    "backup_artifact_id" UUID,
    "approval_id" UUID,
    "error" TEXT,
    "recovery" TEXT,
    "verify_until" TIMESTAMPTZ(3),
    "requested_by_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "deployments_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "verification_queries" (
    "id" UUID NOT NULL,
    "request_id" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "sql" TEXT NOT NULL,
    "expectation" JSONB NOT NULL,
    "created_by_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "archived_at" TIMESTAMPTZ(3),

    CONSTRAINT "verification_queries_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "issue_notes" (
    "id" UUID NOT NULL,
    "request_id" UUID NOT NULL,
    "body" TEXT NOT NULL,
    "author_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "issue_notes_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "api_tokens" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "user_id" UUID NOT NULL,
    "role" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "issued_by_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3),
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "migration_requests_project_id_created_at_idx" ON "migration_requests"("project_id", "created_at" DESC);
CREATE INDEX "runs_deployment_id_idx" ON "runs"("deployment_id");
CREATE UNIQUE INDEX "projects_name_key" ON "projects"("name");
CREATE UNIQUE INDEX "project_environments_project_id_position_key" ON "project_environments"("project_id", "position");
CREATE UNIQUE INDEX "project_environments_project_id_name_key" ON "project_environments"("project_id", "name");
CREATE INDEX "gate_signatures_gate_item_id_signed_at_idx" ON "gate_signatures"("gate_item_id", "signed_at" DESC);
CREATE INDEX "gate_signatures_request_id_signed_at_idx" ON "gate_signatures"("request_id", "signed_at" DESC);
CREATE INDEX "deployment_approvals_request_id_environment_id_created_at_idx" ON "deployment_approvals"("request_id", "environment_id", "created_at" DESC);
CREATE INDEX "deployments_request_id_created_at_idx" ON "deployments"("request_id", "created_at" DESC);
CREATE INDEX "deployments_environment_id_created_at_idx" ON "deployments"("environment_id", "created_at" DESC);
CREATE INDEX "deployments_status_idx" ON "deployments"("status");
CREATE INDEX "verification_queries_request_id_position_idx" ON "verification_queries"("request_id", "position");
CREATE INDEX "issue_notes_request_id_created_at_idx" ON "issue_notes"("request_id", "created_at" DESC);
CREATE UNIQUE INDEX "api_tokens_token_hash_key" ON "api_tokens"("token_hash");
CREATE INDEX "api_tokens_user_id_idx" ON "api_tokens"("user_id");

-- AddForeignKey
ALTER TABLE "migration_requests" ADD CONSTRAINT "migration_requests_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "runs" ADD CONSTRAINT "runs_deployment_id_fkey" FOREIGN KEY ("deployment_id") REFERENCES "deployments"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "projects" ADD CONSTRAINT "projects_created_by_id_fkey" FOREIGN KEY ("created_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "project_environments" ADD CONSTRAINT "project_environments_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "project_environments" ADD CONSTRAINT "project_environments_target_id_fkey" FOREIGN KEY ("target_id") REFERENCES "target_databases"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "gate_signatures" ADD CONSTRAINT "gate_signatures_gate_item_id_fkey" FOREIGN KEY ("gate_item_id") REFERENCES "gate_items"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "gate_signatures" ADD CONSTRAINT "gate_signatures_request_id_fkey" FOREIGN KEY ("request_id") REFERENCES "migration_requests"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "gate_signatures" ADD CONSTRAINT "gate_signatures_signed_by_id_fkey" FOREIGN KEY ("signed_by_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "deployment_approvals" ADD CONSTRAINT "deployment_approvals_request_id_fkey" FOREIGN KEY ("request_id") REFERENCES "migration_requests"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "deployment_approvals" ADD CONSTRAINT "deployment_approvals_environment_id_fkey" FOREIGN KEY ("environment_id") REFERENCES "project_environments"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "deployment_approvals" ADD CONSTRAINT "deployment_approvals_revision_id_fkey" FOREIGN KEY ("revision_id") REFERENCES "migration_revisions"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "deployment_approvals" ADD CONSTRAINT "deployment_approvals_approved_by_id_fkey" FOREIGN KEY ("approved_by_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_request_id_fkey" FOREIGN KEY ("request_id") REFERENCES "migration_requests"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_environment_id_fkey" FOREIGN KEY ("environment_id") REFERENCES "project_environments"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_target_id_fkey" FOREIGN KEY ("target_id") REFERENCES "target_databases"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_revision_id_fkey" FOREIGN KEY ("revision_id") REFERENCES "migration_revisions"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_requested_by_id_fkey" FOREIGN KEY ("requested_by_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "verification_queries" ADD CONSTRAINT "verification_queries_request_id_fkey" FOREIGN KEY ("request_id") REFERENCES "migration_requests"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "verification_queries" ADD CONSTRAINT "verification_queries_created_by_id_fkey" FOREIGN KEY ("created_by_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "issue_notes" ADD CONSTRAINT "issue_notes_request_id_fkey" FOREIGN KEY ("request_id") REFERENCES "migration_requests"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "issue_notes" ADD CONSTRAINT "issue_notes_author_id_fkey" FOREIGN KEY ("author_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_issued_by_id_fkey" FOREIGN KEY ("issued_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;
