import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ENTRY_POINTS } from '../support/entry-points';

// The authorization matrix and the fuzzer are generated from tests/support/entry-points.ts;
// this guard reads the source tree and fails when an entry point is missing from that table
// (or listed but gone), so a new action or route cannot slip past them.

const root = path.resolve(__dirname, '../..');
const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'generated' || name.startsWith('.')) continue;
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) walk(full, out);
    else if (/\.(ts|tsx)$/.test(name)) out.push(full);
  }
  return out;
}

const rel = (f: string) => path.relative(root, f).split(path.sep).join('/');

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true, file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
}

const hasModifier = (node: ts.Node, kind: ts.SyntaxKind) =>
  ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === kind);

/** Names of the runtime values a module exports (functions, consts, `export { a as B }`), types left out. */
function exportedValues(sf: ts.SourceFile): string[] {
  const names: string[] = [];
  for (const stmt of sf.statements) {
    if (ts.isFunctionDeclaration(stmt) && hasModifier(stmt, ts.SyntaxKind.ExportKeyword) && stmt.name) names.push(stmt.name.text);
    if (ts.isVariableStatement(stmt) && hasModifier(stmt, ts.SyntaxKind.ExportKeyword)) {
      for (const d of stmt.declarationList.declarations) if (ts.isIdentifier(d.name)) names.push(d.name.text);
    }
    if (ts.isExportDeclaration(stmt) && !stmt.isTypeOnly && stmt.exportClause && ts.isNamedExports(stmt.exportClause)) {
      for (const el of stmt.exportClause.elements) if (!el.isTypeOnly) names.push(el.name.text);
    }
    if (ts.isExportAssignment(stmt)) names.push('default');
  }
  return names;
}

const isUseServerFile = (sf: ts.SourceFile) =>
  sf.statements.length > 0 && ts.isExpressionStatement(sf.statements[0]) && ts.isStringLiteral(sf.statements[0].expression) && sf.statements[0].expression.text === 'use server';

/** Server actions in the source: every value export of a 'use server' module. */
function sourceActions(): { id: string; file: string }[] {
  return walk(path.join(root, 'lib/actions'))
    .filter((f) => !f.endsWith('.test.ts'))
    .map((f) => ({ f, sf: parse(f) }))
    .filter(({ sf }) => isUseServerFile(sf))
    .flatMap(({ f, sf }) => exportedValues(sf).map((name) => ({ id: name, file: rel(f) })));
}

/** API route methods in the source: app/api/**\/route.ts exports named after HTTP methods. */
function sourceRoutes(): { id: string; file: string }[] {
  return walk(path.join(root, 'app/api'))
    .filter((f) => path.basename(f) === 'route.ts')
    .flatMap((f) => {
      const file = rel(f);
      const urlPath = `/${file.replace(/^app\//, '').replace(/\/route\.ts$/, '').replace(/\[(?!\.\.\.)[^\]]+\]/g, ':id')}`;
      return exportedValues(parse(f))
        .filter((n) => HTTP_METHODS.includes(n))
        .map((m) => ({ id: `${m} ${urlPath}`, file }));
    });
}

describe('the table of entry points (tests/support/entry-points.ts)', () => {
  it('lists every server action and every API route method in the source, and nothing else', () => {
    const inSource = [...sourceActions(), ...sourceRoutes()];
    const listed = new Set(ENTRY_POINTS.map((e) => e.id));
    const missing = inSource.filter((e) => !listed.has(e.id)).map((e) => `${e.id} (${e.file})`);
    expect(missing, 'entry points missing from tests/support/entry-points.ts: add a row with who may call them').toEqual([]);
    const sourceIds = new Set(inSource.map((e) => e.id));
    expect(ENTRY_POINTS.filter((e) => !sourceIds.has(e.id)).map((e) => e.id), 'listed but not in the source any more').toEqual([]);
    // Each row names the file its entry point lives in.
    const fileOf = new Map(inSource.map((e) => [e.id, e.file]));
    for (const e of ENTRY_POINTS) expect(e.call.file, e.id).toBe(fileOf.get(e.id));
    expect(inSource.length).toBeGreaterThanOrEqual(20);
  });

  it("has server actions only in lib/actions, each named ...Action (the house's one wrapper, runAction)", () => {
    const elsewhere = ['app', 'components', 'lib']
      .flatMap((d) => walk(path.join(root, d)))
      .filter((f) => !rel(f).startsWith('lib/actions/') && !f.endsWith('.test.ts'))
      .filter((f) => /['"]use server['"]/.test(readFileSync(f, 'utf8')))
      .map(rel);
    expect(elsewhere, "'use server' outside lib/actions").toEqual([]);
    const badNames = sourceActions().filter((a) => !a.id.endsWith('Action'));
    expect(badNames, "every export of a 'use server' module is callable from outside: name it ...Action and list it").toEqual([]);
  });

  it('knows, for each row, who may call it and how to build a valid input', () => {
    for (const e of ENTRY_POINTS) {
      expect(e.who.length, e.id).toBeGreaterThan(0);
      expect(typeof e.prepare, e.id).toBe('function');
      if (e.call.kind === 'action') expect(e.call.name).toBe(e.id);
    }
    expect(new Set(ENTRY_POINTS.map((e) => e.id)).size).toBe(ENTRY_POINTS.length);
  });
});
