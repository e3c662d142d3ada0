import type { AgentRole } from './roles';

/** One step of a workflow template: the fields of a TaskCreate item, plus who may work it. */
export interface TemplateStep {
  key: string;
  subject: string;
  description: string;
  activeForm: string;
  /** The role the procedure names; shown as the task's owner. */
  owner: AgentRole | 'reviewer';
  /** Every role whose holders may work the step (the procedure's "or"). */
  eligibleRoles: (AgentRole | 'reviewer')[];
  checklist: string[];
  /** The quality gate: completed by reviewers' signatures, not by ticking a checklist. */
  gate?: boolean;
}

export interface GateItemDefinition {
  key: string;
  label: string;
}

export interface WorkflowTemplateDefinition {
  key: string;
  version: number;
  name: string;
  steps: TemplateStep[];
  gateItems: GateItemDefinition[];
}

/**
 * The DATABASE MIGRATION procedure (docs/procedure/database-migration.md) as data.
 * Where the procedure names no agent (steps 3, 8, 9) the choice is recorded in
 * docs/decisions/002-procedure-template.md. Change it by adding a new version.
 */
export const DATABASE_MIGRATION_V1: WorkflowTemplateDefinition = {
  key: 'database-migration',
  version: 1,
  name: 'Database migration',
  steps: [
    {
      key: 'analysis',
      subject: 'Analyze database change',
      activeForm: 'Analyzing database change',
      description: 'Understand the current schema and the desired change, its data impact and the migration strategy.',
      owner: 'database-optimizer',
      eligibleRoles: ['database-optimizer', 'postgres-pro'],
      checklist: ['Understand current schema', 'Document desired changes', 'Identify data impact', 'Plan migration strategy'],
    },
    {
      key: 'create-migration',
      subject: 'Create migration',
      activeForm: 'Creating migration',
      description: 'Write the Prisma migration with up and down paths and any data transformations.',
      owner: 'database-administrator',
      eligibleRoles: ['database-administrator'],
      checklist: [
        'Write Prisma migration',
        'Include up and down paths',
        'Add data transformations if needed',
        'Consider rollback scenario',
      ],
    },
    {
      key: 'test-locally',
      subject: 'Test migration locally',
      activeForm: 'Testing migration locally',
      description: 'Run the migration on a local database, verify the schema and data changes and that rollback works.',
      owner: 'database-administrator',
      eligibleRoles: ['database-administrator'],
      checklist: [
        'Run migration on local database',
        'Verify schema changes',
        'Test data transformations',
        'Check application still works',
        'Verify rollback works',
      ],
    },
    {
      key: 'update-app-code',
      subject: 'Update app code',
      activeForm: 'Updating app code',
      description: 'Bring the Prisma schema, queries and types in line with the new database schema.',
      owner: 'language-specialist',
      eligibleRoles: ['language-specialist'],
      checklist: ['Update Prisma schema', 'Modify queries if needed', 'Update types', 'Fix any breaking changes'],
    },
    {
      key: 'test-app',
      subject: 'Test app with new schema',
      activeForm: 'Testing app with new schema',
      description: 'Run the application test suite against the new schema.',
      owner: 'test-automator',
      eligibleRoles: ['test-automator'],
      checklist: ['Run all tests', 'Verify CRUD operations', 'Check API endpoints', 'Test edge cases'],
    },
    {
      key: 'create-backup',
      subject: 'Create backup',
      activeForm: 'Creating backup',
      description: 'Document the backup procedure, write the restore script and test backup and restore.',
      owner: 'database-administrator',
      eligibleRoles: ['database-administrator'],
      checklist: ['Document backup procedure', 'Create restore script', 'Test backup/restore'],
    },
    {
      key: 'quality-gate',
      subject: 'Pass quality gate',
      activeForm: 'Checking quality gate',
      description: 'Reviewers sign each gate item; the request author may not sign their own request.',
      owner: 'reviewer',
      eligibleRoles: ['reviewer'],
      checklist: [],
      gate: true,
    },
    {
      key: 'deploy',
      subject: 'Deploy migration',
      activeForm: 'Deploying migration',
      description: 'Ship the migration to production and watch it run.',
      owner: 'database-administrator',
      eligibleRoles: ['database-administrator'],
      checklist: [
        'Commit migration files',
        'Bump patch version',
        'Push to master',
        'Monitor deployment logs',
        'Verify migration runs in production',
        'Test production application',
      ],
    },
    {
      key: 'post-deployment',
      subject: 'Run post-deployment checks',
      activeForm: 'Running post-deployment checks',
      description: 'Verify the production database and application after the deploy.',
      owner: 'database-administrator',
      eligibleRoles: ['database-administrator', 'postgres-pro'],
      checklist: ['Run verification queries', 'Check application health', 'Monitor for errors', 'Document any issues'],
    },
  ],
  gateItems: [
    { key: 'migration-runs', label: 'Migration runs successfully' },
    { key: 'rollback-tested', label: 'Rollback tested' },
    { key: 'tests-pass', label: 'All tests pass' },
    { key: 'no-data-loss', label: 'No data loss' },
    { key: 'app-works', label: 'Application works with new schema' },
    { key: 'backup-ready', label: 'Backup procedure ready' },
  ],
};

export const CURRENT_TEMPLATE = DATABASE_MIGRATION_V1;

export interface PlannedTask {
  position: number;
  key: string;
  subject: string;
  description: string;
  activeForm: string;
  owner: string;
  eligibleRoles: string[];
  isGate: boolean;
  /** Position of the task this one waits for (TaskCreate's blockedBy), null for the first. */
  blockedByPosition: number | null;
  checklist: string[];
}

/** Turns a template into the tasks of a new workflow: one per step, each waiting for the one before. */
export function planWorkflow(template: WorkflowTemplateDefinition): PlannedTask[] {
  if (template.steps.length === 0) throw new Error(`Template ${template.key} v${template.version} has no steps.`);
  return template.steps.map((step, index) => ({
    position: index + 1,
    key: step.key,
    subject: step.subject,
    description: step.description,
    activeForm: step.activeForm,
    owner: step.owner,
    eligibleRoles: [...step.eligibleRoles],
    isGate: step.gate === true,
    blockedByPosition: index === 0 ? null : index,
    checklist: step.gate ? [] : [...step.checklist],
  }));
}
