/**
 * The SQL behind the benchmarked pages, written by hand after capturing what Prisma 7 really
 * sends (log_statement = 'all'; see bench/README.md). Prisma 7 without the relationJoins
 * preview feature resolves every `include`/`select` of a relation with a separate
 * `WHERE id IN (...)` query after the parent query, so a page is a chain of round trips.
 *
 * Three shapes per page:
 *  - `joined`: the data in as few statements as hand-written SQL needs (what the page
 *    costs the database at best);
 *  - `prisma`: the statements Prisma sends for listRequests / getRequestDetail, in order,
 *    each depending on the one before as Prisma does it;
 *  - `page`:  everything the page view runs: the `prisma` set plus the two identical
 *    session-user lookups (layout's findViewer + page's getViewer) and, for lists, the
 *    target options of the filter form.
 * Each set runs sequentially on one pooled connection.
 */
import type { PoolClient } from 'pg';

export interface ListFilter {
  status?: string;
  kind?: string;
  agentRole?: string;
}

export type QuerySet = (c: PoolClient, arg: string) => Promise<void>;

const M = 'migration_requests';

/** WHERE clause and params in the order Prisma emits them (status, kind, targetId, currentOwner). */
function where(f: ListFilter, first = 1): { sql: string; params: string[] } {
  const parts: string[] = [];
  const params: string[] = [];
  if (f.status) { params.push(f.status); parts.push(`status = CAST($${first + params.length - 1}::text AS "RequestStatus")`); }
  if (f.kind) { params.push(f.kind); parts.push(`kind = CAST($${first + params.length - 1}::text AS "RequestKind")`); }
  if (f.agentRole) { params.push(f.agentRole); parts.push(`current_owner = $${first + params.length - 1}`); }
  return { sql: parts.length ? parts.join(' AND ') : '1=1', params };
}

const LIST_COLUMNS = `id, number, title, kind::text, priority::text, status::text, current_step, current_subject, current_owner,
  completed_steps, total_steps, created_at`;

export async function sessionUser(c: PoolClient, userId: string) {
  await c.query(
    `SELECT id, name, email, roles::text[], agent_roles, active FROM users WHERE (id = $1 AND 1=1) LIMIT $2 OFFSET $3`,
    [userId, 1, 0],
  );
}

/** listRequests as one join plus the count. */
export async function listJoined(c: PoolClient, f: ListFilter) {
  const w = where(f);
  const rows = await c.query(
    `SELECT r.id, r.number, r.title, r.kind::text, r.priority::text, r.status::text, r.current_step, r.current_subject,
            r.current_owner, r.completed_steps, r.total_steps, r.created_at,
            t.name AS target_name, t.environment::text AS environment, u.name AS author_name
       FROM ${M} r
       JOIN target_databases t ON t.id = r.target_id
       JOIN users u ON u.id = r.author_id
      WHERE ${w.sql.replace(/\b(status|kind|current_owner) =/g, 'r.$1 =')}
      ORDER BY r.created_at DESC LIMIT $${w.params.length + 1} OFFSET $${w.params.length + 2}`,
    [...w.params, 25, 0],
  );
  const count = await c.query(`SELECT count(*)::int AS n FROM ${M} WHERE ${w.sql}`, w.params);
  return { rows: rows.rows as { id: string; title: string }[], total: count.rows[0].n as number };
}

/** listRequests as Prisma sends it: rows, count, then the targets and authors of the rows by id. */
export async function listPrisma(c: PoolClient, f: ListFilter) {
  const w = where(f);
  const n = w.params.length;
  const rows = await c.query<{ target_id: string; author_id: string }>(
    `SELECT ${LIST_COLUMNS}, target_id, author_id FROM ${M} WHERE ${w.sql} ORDER BY created_at DESC LIMIT $${n + 1} OFFSET $${n + 2}`,
    [...w.params, 25, 0],
  );
  await c.query(`SELECT COUNT(*) AS "_count$_all" FROM (SELECT id FROM ${M} WHERE ${w.sql} OFFSET $${n + 1}) AS sub`, [...w.params, 0]);
  const inList = (k: number) => Array.from({ length: k }, (_, i) => `$${i + 1}`).join(',');
  const targetIds = rows.rows.map((r) => r.target_id);
  const authorIds = rows.rows.map((r) => r.author_id);
  if (targetIds.length) {
    await c.query(`SELECT id, name, environment::text FROM target_databases WHERE id IN (${inList(targetIds.length)}) OFFSET $${targetIds.length + 1}`, [...targetIds, 0]);
    await c.query(`SELECT id, name FROM users WHERE id IN (${inList(authorIds.length)}) OFFSET $${authorIds.length + 1}`, [...authorIds, 0]);
  }
}

export async function targetOptions(c: PoolClient) {
  await c.query(`SELECT id, name, environment::text FROM target_databases WHERE 1=1 ORDER BY name ASC OFFSET $1`, [0]);
}

/** getRequestDetail with joins: 6 statements. */
export async function detailJoined(c: PoolClient, id: string) {
  const r = await c.query(
    `SELECT r.*, r.kind::text AS kind, r.priority::text AS priority, r.status::text AS status,
            t.name AS target_name, t.environment::text AS environment, t.engine::text AS engine,
            u.name AS author_name, w.key AS template_key, w.version AS template_version, w.name AS template_name
       FROM ${M} r JOIN target_databases t ON t.id = r.target_id JOIN users u ON u.id = r.author_id
       JOIN workflow_templates w ON w.id = r.template_id
      WHERE r.id = $1`,
    [id],
  );
  if (r.rowCount !== 1) throw new Error(`request ${id} not found`);
  await c.query(
    `SELECT t.*, t.status::text AS status, a.name AS assignee_name FROM tasks t LEFT JOIN users a ON a.id = t.assignee_id
      WHERE t.request_id = $1 ORDER BY t.position`,
    [id],
  );
  await c.query(
    `SELECT ci.*, u.name AS checked_by_name FROM tasks t JOIN checklist_items ci ON ci.task_id = t.id
       LEFT JOIN users u ON u.id = ci.checked_by_id WHERE t.request_id = $1 ORDER BY t.position, ci.position`,
    [id],
  );
  await c.query(
    `SELECT n.*, u.name AS author_name FROM tasks t JOIN task_notes n ON n.task_id = t.id JOIN users u ON u.id = n.author_id
      WHERE t.request_id = $1 ORDER BY n.created_at`,
    [id],
  );
  await c.query(
    `SELECT g.*, u.name AS signed_by_name FROM gate_items g LEFT JOIN users u ON u.id = g.signed_by_id
      WHERE g.request_id = $1 ORDER BY g.position`,
    [id],
  );
  await c.query(
    `SELECT a.*, u.name AS actor_name FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id
      WHERE a.request_id = $1 ORDER BY a.created_at DESC LIMIT 200`,
    [id],
  );
}

/** getRequestDetail as Prisma sends it (14 statements, each waiting for the ids of the one before). */
export async function detailPrisma(c: PoolClient, id: string) {
  const inList = (k: number) => Array.from({ length: k }, (_, i) => `$${i + 1}`).join(',');
  const byIds = async (sql: (list: string, off: string) => string, ids: (string | null)[]) => {
    const list = ids.length ? inList(ids.length) : 'NULL';
    await c.query(sql(list, `$${ids.length + 1}`), [...ids, 0]);
  };
  const r = await c.query<{ target_id: string; author_id: string; template_id: string }>(
    `SELECT id, number, title, kind::text, description, priority::text, status::text, target_id, author_id, template_id,
            current_step, current_subject, current_owner, completed_steps, total_steps, created_at, updated_at
       FROM ${M} WHERE (id = $1 AND 1=1) LIMIT $2 OFFSET $3`,
    [id, 1, 0],
  );
  if (r.rowCount !== 1) throw new Error(`request ${id} not found`);
  const req = r.rows[0];
  await c.query(`SELECT id, name, environment::text, engine::text FROM target_databases WHERE id = $1 OFFSET $2`, [req.target_id, 0]);
  await c.query(`SELECT id, name FROM users WHERE id = $1 OFFSET $2`, [req.author_id, 0]);
  await c.query(`SELECT id, key, version, name FROM workflow_templates WHERE id = $1 OFFSET $2`, [req.template_id, 0]);
  const tasks = await c.query<{ id: string; assignee_id: string | null }>(
    `SELECT id, request_id, position, key, subject, description, active_form, status::text, blocked_reason, owner, eligible_roles,
            blocked_by_id, assignee_id, is_gate, started_at, completed_at, created_at, updated_at
       FROM tasks WHERE request_id = $1 ORDER BY position ASC OFFSET $2`,
    [id, 0],
  );
  const taskIds = tasks.rows.map((t) => t.id);
  const checklist = await c.query<{ checked_by_id: string | null }>(
    `SELECT id, task_id, position, label, done, checked_by_id, checked_at FROM checklist_items
      WHERE task_id IN (${inList(taskIds.length)}) ORDER BY position ASC OFFSET $${taskIds.length + 1}`,
    [...taskIds, 0],
  );
  const notes = await c.query<{ author_id: string }>(
    `SELECT id, task_id, author_id, body, created_at FROM task_notes
      WHERE task_id IN (${inList(taskIds.length)}) ORDER BY created_at ASC OFFSET $${taskIds.length + 1}`,
    [...taskIds, 0],
  );
  // Prisma passes one parameter per parent row, NULLs included.
  await byIds((l, o) => `SELECT id, name FROM users WHERE id IN (${l}) OFFSET ${o}`, checklist.rows.map((x) => x.checked_by_id));
  await byIds((l, o) => `SELECT id, name FROM users WHERE id IN (${l}) OFFSET ${o}`, tasks.rows.map((t) => t.assignee_id));
  const gate = await c.query<{ signed_by_id: string | null }>(
    `SELECT id, request_id, position, key, label, signed_by_id, signed_at, note, evidence FROM gate_items
      WHERE request_id = $1 ORDER BY position ASC OFFSET $2`,
    [id, 0],
  );
  const audit = await c.query<{ actor_id: string | null }>(
    `SELECT id, request_id, actor_id, action, entity_type, entity_id, before, after, created_at FROM audit_log
      WHERE request_id = $1 ORDER BY created_at DESC LIMIT $2 OFFSET $3`,
    [id, 200, 0],
  );
  if (notes.rows.length) await byIds((l, o) => `SELECT id, name FROM users WHERE id IN (${l}) OFFSET ${o}`, notes.rows.map((n) => n.author_id));
  else await c.query(`SELECT id, name FROM users WHERE id IN (NULL) OFFSET $1`, [0]);
  await byIds((l, o) => `SELECT id, name FROM users WHERE id IN (${l}) OFFSET ${o}`, audit.rows.map((a) => a.actor_id));
  await byIds((l, o) => `SELECT id, name FROM users WHERE id IN (${l}) OFFSET ${o}`, gate.rows.map((g) => g.signed_by_id));
}

/** Statement counts of the shapes above, for the report. */
export const STATEMENTS = {
  listJoined: 2,
  listPrisma: 4,
  listPage: 7,
  detailJoined: 6,
  detailPrisma: 14,
  detailPage: 16,
};
