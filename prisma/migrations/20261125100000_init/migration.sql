-- CreateEnum
CREATE TYPE "Role" AS ENUM ('engineer', 'reviewer', 'lead', 'admin');

-- CreateEnum
CREATE TYPE "DbEngine" AS ENUM ('postgresql', 'mysql', 'mariadb', 'sqlite');

-- CreateEnum
CREATE TYPE "Environment" AS ENUM ('local', 'staging', 'production');

-- CreateEnum
CREATE TYPE "RequestKind" AS ENUM ('schema_change', 'table_column_change', 'data_transformation', 'index_optimization');

-- CreateEnum
CREATE TYPE "Priority" AS ENUM ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL');

-- CreateEnum
CREATE TYPE "RequestStatus" AS ENUM ('open', 'in_progress', 'blocked', 'completed');

-- CreateEnum
CREATE TYPE "TaskStatus" AS ENUM ('pending', 'in_progress', 'completed', 'blocked');

-- CreateTable
CREATE TABLE "users" (
    "id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "password_hash" TEXT NOT NULL,
    "roles" "Role"[],
    "agent_roles" TEXT[],
    "active" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id"),
    -- Agent roles are free text in Prisma's model; the database still refuses unknown ones.
    CONSTRAINT "users_agent_roles_check" CHECK ("agent_roles" <@ ARRAY['database-optimizer', 'postgres-pro', 'database-administrator', 'language-specialist', 'test-automator']::TEXT[])
);

-- CreateTable
CREATE TABLE "target_databases" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "engine" "DbEngine" NOT NULL DEFAULT 'postgresql',
    "environment" "Environment" NOT NULL,
    "host" TEXT,
    "port" INTEGER,
    "database" TEXT NOT NULL,
    "username" TEXT,
    "password_encrypted" TEXT,
    "ssl_mode" TEXT NOT NULL DEFAULT 'disable',
    "connect_timeout_ms" INTEGER NOT NULL DEFAULT 5000,
    "lock_timeout_ms" INTEGER NOT NULL DEFAULT 5000,
    "statement_timeout_ms" INTEGER NOT NULL DEFAULT 600000,
    "created_by_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "target_databases_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "workflow_templates" (
    "id" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "definition" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "workflow_templates_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "migration_requests" (
    "id" UUID NOT NULL,
    "number" SERIAL NOT NULL,
    "title" TEXT NOT NULL,
    "kind" "RequestKind" NOT NULL,
    "description" TEXT NOT NULL,
    "priority" "Priority" NOT NULL DEFAULT 'HIGH',
    "status" "RequestStatus" NOT NULL DEFAULT 'open',
    "target_id" UUID NOT NULL,
    "author_id" UUID NOT NULL,
    "template_id" UUID NOT NULL,
    "current_step" INTEGER NOT NULL DEFAULT 1,
    "current_subject" TEXT NOT NULL,
    "current_owner" TEXT NOT NULL,
    "completed_steps" INTEGER NOT NULL DEFAULT 0,
    "total_steps" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "migration_requests_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "tasks" (
    "id" UUID NOT NULL,
    "request_id" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "key" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "active_form" TEXT NOT NULL,
    "status" "TaskStatus" NOT NULL DEFAULT 'pending',
    "blocked_reason" TEXT,
    "owner" TEXT NOT NULL,
    "eligible_roles" TEXT[],
    "blocked_by_id" UUID,
    "assignee_id" UUID,
    "is_gate" BOOLEAN NOT NULL DEFAULT false,
    "started_at" TIMESTAMPTZ(3),
    "completed_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "tasks_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "checklist_items" (
    "id" UUID NOT NULL,
    "task_id" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "label" TEXT NOT NULL,
    "done" BOOLEAN NOT NULL DEFAULT false,
    "checked_by_id" UUID,
    "checked_at" TIMESTAMPTZ(3),

    CONSTRAINT "checklist_items_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "gate_items" (
    "id" UUID NOT NULL,
    "request_id" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "key" TEXT NOT NULL,
    "label" TEXT NOT NULL,
    "signed_by_id" UUID,
    "signed_at" TIMESTAMPTZ(3),
    "note" TEXT,
    "evidence" JSONB,

    CONSTRAINT "gate_items_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "task_notes" (
    "id" UUID NOT NULL,
    "task_id" UUID NOT NULL,
    "author_id" UUID NOT NULL,
    "body" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "task_notes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_log" (
    "id" UUID NOT NULL,
    "request_id" UUID,
    "actor_id" UUID,
    "action" TEXT NOT NULL,
    "entity_type" TEXT NOT NULL,
    "entity_id" TEXT NOT NULL,
    "before" JSONB,
    "after" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audit_log_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");

-- CreateIndex
CREATE UNIQUE INDEX "target_databases_name_key" ON "target_databases"("name");

-- CreateIndex
CREATE UNIQUE INDEX "workflow_templates_key_version_key" ON "workflow_templates"("key", "version");

-- CreateIndex
CREATE UNIQUE INDEX "migration_requests_number_key" ON "migration_requests"("number");

-- CreateIndex
CREATE INDEX "migration_requests_created_at_idx" ON "migration_requests"("created_at" DESC);

-- CreateIndex
CREATE INDEX "migration_requests_status_created_at_idx" ON "migration_requests"("status", "created_at" DESC);

-- CreateIndex
CREATE INDEX "migration_requests_kind_created_at_idx" ON "migration_requests"("kind", "created_at" DESC);

-- CreateIndex
CREATE INDEX "migration_requests_target_id_created_at_idx" ON "migration_requests"("target_id", "created_at" DESC);

-- CreateIndex
CREATE INDEX "migration_requests_author_id_created_at_idx" ON "migration_requests"("author_id", "created_at" DESC);

-- CreateIndex
CREATE INDEX "migration_requests_current_owner_created_at_idx" ON "migration_requests"("current_owner", "created_at" DESC);

-- CreateIndex
CREATE INDEX "tasks_assignee_id_idx" ON "tasks"("assignee_id");

-- CreateIndex
CREATE UNIQUE INDEX "tasks_request_id_position_key" ON "tasks"("request_id", "position");

-- CreateIndex
CREATE UNIQUE INDEX "checklist_items_task_id_position_key" ON "checklist_items"("task_id", "position");

-- CreateIndex
CREATE UNIQUE INDEX "gate_items_request_id_position_key" ON "gate_items"("request_id", "position");

-- CreateIndex
CREATE INDEX "task_notes_task_id_created_at_idx" ON "task_notes"("task_id", "created_at");

-- CreateIndex
CREATE INDEX "audit_log_request_id_created_at_idx" ON "audit_log"("request_id", "created_at");

-- CreateIndex
CREATE INDEX "audit_log_entity_type_entity_id_idx" ON "audit_log"("entity_type", "entity_id");

-- AddForeignKey
ALTER TABLE "target_databases" ADD CONSTRAINT "target_databases_created_by_id_fkey" FOREIGN KEY ("created_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "migration_requests" ADD CONSTRAINT "migration_requests_target_id_fkey" FOREIGN KEY ("target_id") REFERENCES "target_databases"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "migration_requests" ADD CONSTRAINT "migration_requests_author_id_fkey" FOREIGN KEY ("author_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "migration_requests" ADD CONSTRAINT "migration_requests_template_id_fkey" FOREIGN KEY ("template_id") REFERENCES "workflow_templates"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_request_id_fkey" FOREIGN KEY ("request_id") REFERENCES "migration_requests"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_blocked_by_id_fkey" FOREIGN KEY ("blocked_by_id") REFERENCES "tasks"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_assignee_id_fkey" FOREIGN KEY ("assignee_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "checklist_items" ADD CONSTRAINT "checklist_items_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "tasks"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "checklist_items" ADD CONSTRAINT "checklist_items_checked_by_id_fkey" FOREIGN KEY ("checked_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "gate_items" ADD CONSTRAINT "gate_items_request_id_fkey" FOREIGN KEY ("request_id") REFERENCES "migration_requests"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "gate_items" ADD CONSTRAINT "gate_items_signed_by_id_fkey" FOREIGN KEY ("signed_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "task_notes" ADD CONSTRAINT "task_notes_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "tasks"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "task_notes" ADD CONSTRAINT "task_notes_author_id_fkey" FOREIGN KEY ("author_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "audit_log" ADD CONSTRAINT "audit_log_request_id_fkey" FOREIGN KEY ("request_id") REFERENCES "migration_requests"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "audit_log" ADD CONSTRAINT "audit_log_actor_id_fkey" FOREIGN KEY ("actor_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;
