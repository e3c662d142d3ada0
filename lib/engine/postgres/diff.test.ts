import { describe, expect, it } from 'vitest';
import { columnOrderChange, describeChange, diffSnapshots } from './diff';
import { hashShape, shapeInventory, withShapeDefaults, type SchemaShape, type TableInfo } from './snapshot';

const table = (extra: Partial<TableInfo> = {}): TableInfo => ({
  columns: [{ name: 'id', type: 'integer', nullable: false, default: null, identity: null, generated: null }],
  primaryKey: { name: 't_pkey', definition: 'PRIMARY KEY (id)' }, uniques: [], checks: [], foreignKeys: [], exclusions: [],
  indexes: [{ name: 't_pkey', method: 'btree', unique: true, primary: true, definition: 'CREATE UNIQUE INDEX t_pkey ON public.t USING btree (id)', predicate: null }],
  ...extra,
});

/** A snapshot as an earlier Cutover stored it: format 1 had no `format` and none of the newer kinds. */
const FORMAT_1 = { schemas: ['public'], tables: { 'public.t': table() }, views: {}, sequences: {}, enums: {}, extensions: {} } as unknown as SchemaShape;
const shape = (extra: Partial<SchemaShape> = {}): SchemaShape => ({ ...withShapeDefaults(FORMAT_1), format: 2, ...extra });
const lines = (a: SchemaShape, b: SchemaShape) => diffSnapshots(a, b).map(describeChange);

describe('snapshots of different formats', () => {
  it('reads an old snapshot with the newer kinds empty, and compares it on what it recorded', () => {
    const now = shape({
      tables: { 'public.t': table({ rowSecurity: true, options: ['fillfactor=70'] }) },
      functions: { 'public.f()': { kind: 'function', definition: 'CREATE OR REPLACE FUNCTION public.f() ...' } },
      comments: { 'table public.t': 'hello' },
    });
    expect(withShapeDefaults(FORMAT_1)).toMatchObject({ functions: {}, triggers: {}, policies: {}, objects: {}, comments: {}, privileges: {}, defaultPrivileges: {} });
    // What format 1 could not see is not reported as added or changed.
    expect(lines(FORMAT_1, now)).toEqual([]);
    expect(lines(now, FORMAT_1)).toEqual([]);
    // What it could see still is.
    const added = shape({ tables: { 'public.t': table({ rowSecurity: true }), 'public.u': table() } });
    expect(lines(FORMAT_1, added)).toEqual(['+ table public.u']);
  });

  it('hashes differently once the newer kinds are recorded, the same for the same shape', () => {
    expect(hashShape(shape())).toBe(hashShape(shape()));
    expect(hashShape(shape())).not.toBe(hashShape(FORMAT_1));
  });
});

describe('changes in words', () => {
  it('says what changed on a table, a function, a trigger, a policy, privileges and comments', () => {
    const before = shape({
      tables: { 'public.t': table({ options: ['fillfactor=90'] }) },
      functions: { 'public.f(i integer)': { kind: 'function', definition: 'CREATE OR REPLACE FUNCTION public.f(i integer)\n RETURNS integer\n LANGUAGE sql\nAS $function$SELECT i$function$\n' } },
      triggers: { 'trg on public.t': { table: 'public.t', definition: 'CREATE TRIGGER trg BEFORE UPDATE ON public.t FOR EACH ROW EXECUTE FUNCTION touch()', enabled: 'origin' } },
      privileges: { 'table public.t': ['(owner): SELECT', 'reader: SELECT'] },
      comments: { 'table public.t': 'old' },
    });
    const after = shape({
      tables: { 'public.t': table({ options: ['fillfactor=70'], rowSecurity: true, unlogged: true }) },
      functions: { 'public.f(i integer)': { kind: 'function', definition: 'CREATE OR REPLACE FUNCTION public.f(i integer)\n RETURNS integer\n LANGUAGE sql\nAS $function$SELECT i + 1$function$\n' } },
      triggers: { 'trg on public.t': { table: 'public.t', definition: 'CREATE TRIGGER trg BEFORE UPDATE ON public.t FOR EACH ROW EXECUTE FUNCTION touch()', enabled: 'disabled' } },
      policies: { 'p on public.t': { table: 'public.t', permissive: true, command: 'select', roles: ['reader'], using: '(id > 0)', withCheck: null } },
      privileges: { 'table public.t': ['(owner): SELECT', 'writer: UPDATE'] },
      comments: { 'table public.t': 'new' },
      objects: { 'event trigger': { ddl: { event: 'ddl_command_end', enabled: 'origin' } } },
    });
    expect(lines(before, after).sort()).toEqual([
      '+ event trigger ddl',
      '+ policy p on public.t FOR SELECT TO reader USING ((id > 0))',
      '~ comment on table public.t: "old" -> "new"',
      '~ function public.f(i integer): body changed',
      '~ privileges on table public.t: granted writer: UPDATE, revoked reader: SELECT',
      '~ table public.t: now unlogged',
      '~ table public.t: row-level security enabled',
      '~ table public.t: storage parameters: fillfactor=90 -> fillfactor=70',
      '~ trigger trg on public.t: disabled',
    ]);
  });

  it('says what a function header change is, and an object property change', () => {
    const def = (volatility: string) => `CREATE OR REPLACE FUNCTION public.f()\n RETURNS integer\n LANGUAGE sql\n ${volatility}\nAS $function$SELECT 1$function$\n`;
    expect(lines(shape({ functions: { 'public.f()': { kind: 'function', definition: def('IMMUTABLE') } } }), shape({ functions: { 'public.f()': { kind: 'function', definition: def('STABLE') } } })))
      .toEqual(['~ function public.f(): definition changed: IMMUTABLE -> STABLE']);
    expect(lines(shape({ objects: { publication: { pub: { insert: true, update: true } } } }), shape({ objects: { publication: { pub: { insert: true, update: false } } } })))
      .toEqual(['~ publication pub: update: yes -> no']);
  });
});

describe('column order', () => {
  const col = (name: string) => ({ name, type: 'text', nullable: true, default: null, identity: null, generated: null });
  const ordered = (...names: string[]) => shape({ tables: { 'public.t': table({ columns: names.map(col) }) } });

  it('says in words which column moved, never as JSON', () => {
    const changes = diffSnapshots(ordered('id', 'note', 'total'), ordered('id', 'total', 'note'));
    expect(changes.map(describeChange)).toEqual(['~ table public.t: column order id, note, total -> id, total, note (note is now last)']);
    expect(columnOrderChange(changes[0])).toMatchObject({ table: 'public.t', moved: 'note is now last' });
  });

  it('lists the whole order when no single column explains it', () => {
    expect(lines(ordered('a', 'b', 'c', 'd'), ordered('b', 'a', 'd', 'c'))).toEqual(['~ table public.t: column order a, b, c, d -> b, a, d, c']);
  });

  it('is not a column-order change when something else changed', () => {
    const [change] = diffSnapshots(ordered('id', 'note'), shape({ tables: { 'public.t': table({ columns: [col('id'), { ...col('note'), type: 'integer' }] }) } }));
    expect(describeChange(change)).toBe('~ column public.t.note: text -> integer');
    expect(columnOrderChange(change)).toBeUndefined();
  });
});

describe('the inventory pages show', () => {
  it('lists the kinds beyond tables a shape holds, none for an old snapshot', () => {
    expect(shapeInventory(FORMAT_1)).toEqual([]);
    expect(shapeInventory(shape({
      tables: { 'public.t': table({ rowSecurity: true, forceRowSecurity: true }) },
      functions: { 'public.b()': { kind: 'function', definition: '' }, 'public.a()': { kind: 'procedure', definition: '' } },
      objects: { 'operator class': { 'public.ops USING hash': {} }, statistics: { 'public.s': {} } },
    }))).toEqual([
      { kind: 'functions', names: ['public.b()'] },
      { kind: 'procedures', names: ['public.a()'] },
      { kind: 'row-level security', names: ['public.t (forced)'] },
      { kind: 'operator classes', names: ['public.ops USING hash'] },
      { kind: 'statistics objects', names: ['public.s'] },
    ]);
  });
});
