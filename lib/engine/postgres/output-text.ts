/**
 * Values of a target's user-defined types as text, without running the target's code.
 *
 * `col::text` looks for a cast in pg_cast, and the owner of a type may add one: `CREATE CAST (mood
 * AS text) WITH FUNCTION public.mood_text(mood)` for an enum, a composite, a range or an array of
 * them. `to_json`/`json_agg` do the same with a cast to json. Such a function would run in
 * Cutover's session, as Cutover's role (often a superuser). The type's output function cannot be
 * replaced that way: creating a base type with I/O functions takes a superuser, and enums,
 * composites, ranges and arrays print through PostgreSQL's own enum_out, record_out, range_out and
 * array_out (which call their members' output functions, never casts). `format('%s', x)` prints
 * through the output function and never consults pg_cast; for a type without a cast to text it is
 * exactly what `::text` gives.
 *
 * Types made by initdb (OIDs below FIRST_USER_OID) keep their casts: a cast needs its creator to
 * own one of the two types, so only a superuser could add one between built-in types. A domain
 * counts as its base type: PostgreSQL ignores casts from a domain.
 */

/** Objects made by initdb have OIDs below this (FirstNormalObjectId). */
export const FIRST_USER_OID = 16384;

/** A type (domains resolved to their base type) whose casts a target's user may have written. */
export const isUserType = (baseTypeOid: number) => baseTypeOid >= FIRST_USER_OID;

/**
 * SQL: `expr` as text through its type's output function, NULL for NULL (format prints NULL as '';
 * num_nonnulls, unlike IS NULL, does not look inside a composite whose fields are all NULL).
 * Function calls only, each qualified: no operator or cast is looked up on the search_path.
 */
export function outputTextSql(expr: string): string {
  return `CASE WHEN pg_catalog.num_nonnulls(${expr})::pg_catalog.bool THEN pg_catalog.format('%s', ${expr}) END`;
}
