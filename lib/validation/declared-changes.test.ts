import { describe, expect, it } from 'vitest';
import { DeclaredChangesTextSchema, declaredChangesText, formatDeclaredChanges, parseDeclaredChangesText, parseQualifiedName } from './declared-changes';

describe('declared changes, text form', () => {
  it('parses each kind of line and merges lines about one table', () => {
    const parsed = parseDeclaredChangesText(
      `# what up changes\npublic.orders rows where status = 'void'\r\norders alter column Total\npublic.orders drop column "Note"\n\nbilling."Old Invoices" drop table\npublic.lines rows\n`,
    );
    expect(parsed).toEqual({
      ok: true,
      value: {
        tables: [
          { table: 'public.orders', rows: { predicate: `status = 'void'` }, columns: ['total'], dropColumns: ['Note'] },
          { table: 'billing."Old Invoices"', drop: true },
          { table: 'public.lines', rows: {} },
        ],
      },
    });
  });

  it('joins two conditions on one table with OR, and names the line of a mistake', () => {
    expect(parseDeclaredChangesText(`t rows where a = 1\nt rows where b = 2`)).toMatchObject({ ok: true, value: { tables: [{ rows: { predicate: '(a = 1) OR (b = 2)' } }] } });
    expect(parseDeclaredChangesText(`public.orders rows\npublic.orders lose everything`)).toEqual({
      ok: false, errors: ['Line 2: after the table write rows, rows where <condition>, alter column X, drop column X, drop table, rename column X to Y or rename to schema.table.'],
    });
    expect(parseDeclaredChangesText(`a.b.c rows`)).toMatchObject({ ok: false });
    expect(DeclaredChangesTextSchema.safeParse('public.orders alter column 1x').success).toBe(false);
  });

  it('declares renamed tables and columns; a new table name without schema keeps the table\'s', () => {
    const parsed = parseDeclaredChangesText(
      `public.orders rename column note to Remark\npublic.orders rename column "Old Name" to "New Name"\nbilling.invoices rename to invoices_old\nbilling.lines rename table to archive."Lines"\norders rename to public.orders_v2`,
    );
    expect(parsed).toEqual({
      ok: true,
      value: {
        tables: [
          { table: 'public.orders', renameColumns: [{ from: 'note', to: 'remark' }, { from: '"Old Name"', to: '"New Name"' }], renameTo: 'public.orders_v2' },
          { table: 'billing.invoices', renameTo: 'billing.invoices_old' },
          { table: 'billing.lines', renameTo: 'archive."Lines"' },
        ],
      },
    });
    expect(parseDeclaredChangesText('public.orders rename column note remark')).toMatchObject({ ok: false, errors: [expect.stringMatching(/^Line 1: after the table write/)] });
    expect(parseDeclaredChangesText('public.orders rename column note to 1x')).toEqual({ ok: false, errors: ['Line 1: "1x" is not a column name.'] });
    expect(parseDeclaredChangesText('public.orders rename to a.b.c')).toEqual({ ok: false, errors: ['Line 1: "a.b.c" is not a table name.'] });
    expect(parseDeclaredChangesText('t rename to u\nt rename to v')).toEqual({ ok: false, errors: ['Line 2: public.t is already declared as renamed to public.u.'] });
    expect(parseDeclaredChangesText('t rename column a to b\nt rename column a to c')).toEqual({ ok: false, errors: ['Line 2: public.t already declares a new name for column a.'] });
    // Back to text and parsed again: the same declarations.
    if (!parsed.ok) throw new Error(parsed.errors.join());
    expect(parseDeclaredChangesText(formatDeclaredChanges(parsed.value))).toEqual(parsed);
  });

  it('formats back to text that parses to the same declarations', () => {
    const text = `public.orders drop column "Note"\npublic.orders alter column total\npublic.orders rows where status = 'void'\nbilling."Old Invoices" drop table`;
    const parsed = parseDeclaredChangesText(text);
    if (!parsed.ok) throw new Error(parsed.errors.join());
    expect(parseDeclaredChangesText(formatDeclaredChanges(parsed.value))).toEqual(parsed);
    expect(declaredChangesText(parsed.value)).toBe(formatDeclaredChanges(parsed.value));
    expect(declaredChangesText(null)).toBe('');
    expect(declaredChangesText({ nonsense: true })).toBe('');
  });

  it('reads table names as PostgreSQL does', () => {
    expect(parseQualifiedName('Orders')).toEqual({ schema: 'public', name: 'orders' });
    expect(parseQualifiedName('"My Schema"."A""B"')).toEqual({ schema: 'My Schema', name: 'A"B' });
    expect(parseQualifiedName('a.')).toBeNull();
  });
});
