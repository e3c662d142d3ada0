export const ROLES = ['engineer', 'reviewer', 'lead', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** The agent roles the procedure assigns steps to. */
export const AGENT_ROLES = [
  'database-optimizer',
  'postgres-pro',
  'database-administrator',
  'language-specialist',
  'test-automator',
] as const;
export type AgentRole = (typeof AGENT_ROLES)[number];

export const ENVIRONMENTS = ['local', 'staging', 'production'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export const DB_ENGINES = ['postgresql', 'mysql', 'mariadb', 'sqlite'] as const;
export type DbEngine = (typeof DB_ENGINES)[number];
/** Engines Cutover can connect to today; the model already admits the others. */
export const SUPPORTED_ENGINES: readonly DbEngine[] = ['postgresql'];

export const REQUEST_KINDS = ['schema_change', 'table_column_change', 'data_transformation', 'index_optimization'] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];
export const REQUEST_KIND_LABELS: Record<RequestKind, string> = {
  schema_change: 'Schema change',
  table_column_change: 'Adding/removing tables or columns',
  data_transformation: 'Data cleanup or transformation',
  index_optimization: 'Index optimization',
};

export const PRIORITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type Priority = (typeof PRIORITIES)[number];

export const TASK_STATUSES = ['pending', 'in_progress', 'completed', 'blocked'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const REQUEST_STATUSES = ['open', 'in_progress', 'blocked', 'completed'] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];
