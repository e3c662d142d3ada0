import { z } from 'zod';

/**
 * What a migration revision declares it changes in the data (the gate's "No data loss"): the
 * data-loss check compares the sample before and after up, and every difference not declared
 * here fails it. A table's entry may declare columns it alters (their values may change: type
 * changes, backfills), columns it drops, that it drops the table, and rows it transforms (all of
 * them, or those matching a predicate: a SQL expression over the table's columns, evaluated only
 * in the sandbox's copy, before and after up), and names it changes: the table's (renamed or
 * moved to another schema) and its columns' (the check follows tables and columns by identity,
 * so an undeclared rename fails it).
 */

const IDENT = /^(?:[A-Za-z_][A-Za-z0-9_$]*|"(?:[^"]|"")+")$/;

/** `schema.table`, `table` (public) or quoted parts: `"My Schema"."Orders"`. */
export function parseQualifiedName(text: string): { schema: string; name: string } | null {
  const parts: string[] = [];
  let rest = text.trim();
  while (rest.length) {
    const m = /^("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)/.exec(rest);
    if (!m) return null;
    const raw = m[1];
    parts.push(raw.startsWith('"') ? raw.slice(1, -1).replace(/""/g, '"') : raw.toLowerCase());
    rest = rest.slice(raw.length);
    if (!rest.length) break;
    if (rest[0] !== '.') return null;
    rest = rest.slice(1);
    if (!rest.length) return null;
  }
  if (parts.length === 1) return { schema: 'public', name: parts[0] };
  if (parts.length === 2) return { schema: parts[0], name: parts[1] };
  return null;
}

/** A column name as written (unquoted names fold to lower case, as PostgreSQL folds them). */
export function parseColumnName(text: string): string | null {
  const t = text.trim();
  if (!IDENT.test(t)) return null;
  return t.startsWith('"') ? t.slice(1, -1).replace(/""/g, '"') : t.toLowerCase();
}

/** Quotes a name part as SQL writes it, when it needs it. */
const quotePart = (s: string) => (/^[a-z_][a-z0-9_$]*$/.test(s) ? s : `"${s.replace(/"/g, '""')}"`);

const tableName = z
  .string()
  .trim()
  .min(1, 'Name the table.')
  .max(200, 'At most 200 characters.')
  .refine((s) => parseQualifiedName(s) !== null, 'Name a table as schema.table (quote parts that need it).');

const columnName = z.string().trim().min(1).max(100).refine((s) => parseColumnName(s) !== null, 'Not a column name.');

export const PREDICATE_MAX = 2000;

export const DeclaredTableChangeSchema = z
  .object({
    table: tableName,
    /** Columns whose values may change (type changes, backfills): not compared. */
    columns: z.array(columnName).max(100).optional(),
    /** Columns the migration drops. */
    dropColumns: z.array(columnName).max(100).optional(),
    /** The migration drops the table. */
    drop: z.boolean().optional(),
    /** The table's name after up (schema.table), when the migration renames it or moves it to another schema. */
    renameTo: tableName.optional(),
    /** Columns the migration renames, by their names before and after up (as SQL writes them: quoted as needed). */
    renameColumns: z.array(z.object({ from: columnName, to: columnName })).max(100).optional(),
    /** Rows the migration may change, insert or delete: all of the table's, or those matching `predicate` before or after. */
    rows: z
      .object({
        predicate: z
          .string()
          .trim()
          .min(1, 'Write the condition, or leave it out to declare every row.')
          .max(PREDICATE_MAX, `At most ${PREDICATE_MAX} characters.`)
          .refine((s) => !s.includes('\u0000'), 'The condition contains a NUL byte.')
          .optional(),
      })
      .optional(),
  })
  .refine((t) => t.drop || t.columns?.length || t.dropColumns?.length || t.rows || t.renameTo || t.renameColumns?.length, { message: 'Declare what changes in this table.' });

export const DeclaredChangesSchema = z.object({ tables: z.array(DeclaredTableChangeSchema).max(200, 'At most 200 tables.') });
export type DeclaredTableChange = z.infer<typeof DeclaredTableChangeSchema>;
export type DeclaredChanges = z.infer<typeof DeclaredChangesSchema>;

export const NO_DECLARED_CHANGES: DeclaredChanges = { tables: [] };

const KINDS_OF_LINE = 'rows, rows where <condition>, alter column X, drop column X, drop table, rename column X to Y or rename to schema.table';

/**
 * The editor's text form, one declaration a line (blank lines and `#` comments are skipped):
 *   public.orders rows                         every row may change
 *   public.orders rows where status = 'void'   rows matching the condition (before or after up)
 *   public.orders alter column total_cents     values of the column may change
 *   public.orders drop column note
 *   public.orders drop table
 *   public.orders rename column note to remark
 *   public.orders rename to public.orders_old  (a name without schema keeps the table's schema)
 * Lines about one table merge into one entry. Errors name the line.
 */
export function parseDeclaredChangesText(text: string): { ok: true; value: DeclaredChanges } | { ok: false; errors: string[] } {
  const byTable = new Map<string, DeclaredTableChange>();
  const errors: string[] = [];
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const where = `Line ${i + 1}`;
    const m = /^("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)(\s*\.\s*("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*))?\s+(.*)$/s.exec(line);
    if (!m) return void errors.push(`${where}: start with the table (schema.table), then what changes: ${KINDS_OF_LINE}.`);
    const name = parseQualifiedName(m[3] ? `${m[1]}.${m[3]}` : m[1]);
    if (!name) return void errors.push(`${where}: "${m[1]}" is not a table name.`);
    const key = `${quotePart(name.schema)}.${quotePart(name.name)}`;
    const entry: DeclaredTableChange = byTable.get(key) ?? { table: key };
    const rest = m[4].trim();
    let column: RegExpExecArray | null;
    if (/^rows$/i.test(rest)) {
      entry.rows = {};
    } else if ((column = /^rows\s+where\s+([\s\S]+)$/i.exec(rest))) {
      if (entry.rows && !entry.rows.predicate) return void errors.push(`${where}: ${key} already declares every row.`);
      const predicate = column[1].trim();
      entry.rows = { predicate: entry.rows?.predicate ? `(${entry.rows.predicate}) OR (${predicate})` : predicate };
    } else if ((column = /^(alter|drop)\s+column\s+(.+)$/i.exec(rest))) {
      const col = parseColumnName(column[2]);
      if (!col) return void errors.push(`${where}: "${column[2].trim()}" is not a column name.`);
      const list = column[1].toLowerCase() === 'alter' ? (entry.columns ??= []) : (entry.dropColumns ??= []);
      if (!list.includes(col)) list.push(col);
    } else if (/^drop(\s+table)?$/i.test(rest)) {
      entry.drop = true;
    } else if ((column = /^rename\s+column\s+("(?:[^"]|"")+"|\S+)\s+to\s+(.+)$/i.exec(rest))) {
      const [from, to] = [parseColumnName(column[1]), parseColumnName(column[2])];
      if (!from || !to) return void errors.push(`${where}: "${(from ? column[2] : column[1]).trim()}" is not a column name.`);
      // Kept as SQL writes them (quoted as needed), as the table names are.
      const list = (entry.renameColumns ??= []);
      if (list.some((r) => r.from === quotePart(from))) return void errors.push(`${where}: ${key} already declares a new name for column ${quotePart(from)}.`);
      list.push({ from: quotePart(from), to: quotePart(to) });
    } else if ((column = /^rename(?:\s+table)?\s+to\s+(.+)$/i.exec(rest))) {
      // Unqualified, the new name keeps the table's schema (as ALTER TABLE ... RENAME TO does).
      const target = parseQualifiedName(column[1]);
      const unqualified = parseQualifiedName(`x.${column[1].trim()}`) !== null;
      if (!target) return void errors.push(`${where}: "${column[1].trim()}" is not a table name.`);
      const renamed = unqualified ? { schema: name.schema, name: target.name } : target;
      const to = `${quotePart(renamed.schema)}.${quotePart(renamed.name)}`;
      if (entry.renameTo && entry.renameTo !== to) return void errors.push(`${where}: ${key} is already declared as renamed to ${entry.renameTo}.`);
      entry.renameTo = to;
    } else {
      return void errors.push(`${where}: after the table write ${KINDS_OF_LINE}.`);
    }
    byTable.set(key, entry);
  });
  if (errors.length) return { ok: false, errors };
  const parsed = DeclaredChangesSchema.safeParse({ tables: [...byTable.values()] });
  if (!parsed.success) return { ok: false, errors: parsed.error.issues.map((e) => e.message) };
  return { ok: true, value: parsed.data };
}

/** The text form of declared changes (what the editor shows for a saved revision). */
export function formatDeclaredChanges(changes: DeclaredChanges | null | undefined): string {
  const lines: string[] = [];
  for (const t of changes?.tables ?? []) {
    const n = parseQualifiedName(t.table);
    const table = n ? `${quotePart(n.schema)}.${quotePart(n.name)}` : t.table;
    if (t.drop) lines.push(`${table} drop table`);
    if (t.renameTo) lines.push(`${table} rename to ${t.renameTo}`);
    for (const r of t.renameColumns ?? []) lines.push(`${table} rename column ${r.from} to ${r.to}`);
    for (const c of t.dropColumns ?? []) lines.push(`${table} drop column ${quotePart(c)}`);
    for (const c of t.columns ?? []) lines.push(`${table} alter column ${quotePart(c)}`);
    if (t.rows) lines.push(t.rows.predicate ? `${table} rows where ${t.rows.predicate}` : `${table} rows`);
  }
  return lines.join('\n');
}

/** The editor's textarea (the text form above), parsed into DeclaredChanges; each problem names its line. */
export const DeclaredChangesTextSchema = z
  .string()
  .max(20_000, 'At most 20,000 characters.')
  .transform((text, ctx) => {
    const parsed = parseDeclaredChangesText(text);
    if (parsed.ok) return parsed.value;
    for (const message of parsed.errors) ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  });

/** A revision's stored declarations (Json) as the editor shows them: the text form, '' for none or unreadable. */
export function declaredChangesText(stored: unknown): string {
  const parsed = DeclaredChangesSchema.safeParse(stored);
  return parsed.success ? formatDeclaredChanges(parsed.data) : '';
}
