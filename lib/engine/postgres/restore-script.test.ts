import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backupFileName, restoreProcedure, restoreScript, shellQuote, verifySql, type RestoreScriptBackup, type RestoreScriptTarget } from './restore-script';

const backup = (over: Partial<RestoreScriptBackup> = {}): RestoreScriptBackup => ({
  key: 'backups/t/r.dump', fileName: 'shop.dump', sha256: 'a'.repeat(64), sizeBytes: 4096, database: 'shop', serverVersion: '15.20 (Debian 15.20-0+deb12u1)',
  pgDumpVersion: '15.20', startedAt: '2026-11-26T04:00:00.000Z',
  checksums: [{ table: 'public.orders', rows: 3, checksum: '00000000000000ff' }],
  layouts: [{ table: 'public.orders', sqlName: '"public"."orders"', columns: [{ name: 'id', baseTypeOid: 23 }, { name: 'note', baseTypeOid: 25 }] }],
  ...over,
});
const target: RestoreScriptTarget = { name: 'Shop', host: 'db.internal', port: 5433, database: 'shop', username: 'app', sslMode: 'require' };

describe('restore scripts', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cutover-script-test-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('are valid bash naming the target, the file and its sha256, with no password', () => {
    const script = restoreScript(backup(), target, { jobs: 3 });
    writeFileSync(path.join(dir, 'r.sh'), script);
    execFileSync('bash', ['-n', path.join(dir, 'r.sh')]);
    expect(script).toContain('PGHOST="${PGHOST:-db.internal}"');
    expect(script).toContain('PGPORT="${PGPORT:-5433}"');
    expect(script).toContain('PGSSLMODE="${PGSSLMODE:-require}"');
    expect(script).toContain(`EXPECTED_SHA256='${'a'.repeat(64)}'`);
    expect(script).toContain('JOBS="${JOBS:-3}"');
    expect(script).toMatch(/--section=pre-data --single-transaction[\s\S]*--section=data --jobs="\$JOBS"[\s\S]*--section=post-data --jobs="\$JOBS"/);
    expect(script).toContain('public.orders|3|00000000000000ff');
    expect(script).not.toMatch(/PGPASSWORD=[^'<]/);
    expect(script).toContain(verifySql(backup().layouts));
  });

  it('ask for the address when the reader may not see it', () => {
    const script = restoreScript(backup(), { ...target, host: null, port: null });
    expect(script).toContain('PGHOST="${PGHOST:?set PGHOST to the server of Shop}"');
    expect(script).toContain('PGPORT="${PGPORT:?set PGPORT to the port of Shop}"');
    expect(script).not.toContain('db.internal');
    expect(restoreProcedure(backup(), { ...target, host: null, port: null })).not.toContain('db.internal');
  });

  it('keep hostile names inert: quoted, out of comments, never ending a here-document', () => {
    const marker = path.join(dir, 'pwned');
    const hostile = `x'"; touch ${marker}; #\n$(touch ${marker})`;
    const script = restoreScript(
      backup({ database: hostile, fileName: `$(touch ${marker}).dump`, checksums: [{ table: `public."a\nCUTOVER_EXPECTED\ntouch ${marker}"`, rows: 1, checksum: '01' }] }),
      { ...target, name: hostile, database: hostile, username: hostile, host: `h$(touch ${marker})` },
    );
    writeFileSync(path.join(dir, 'r.sh'), script);
    execFileSync('bash', ['-n', path.join(dir, 'r.sh')]);
    // Run up to its first check (the file is missing): nothing of the names ran.
    const r = spawnSync('bash', [path.join(dir, 'r.sh'), path.join(dir, 'missing.dump')], { encoding: 'utf8', env: { NODE_ENV: process.env.NODE_ENV, PATH: process.env.PATH } });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('does not exist');
    expect(existsSync(marker)).toBe(false);
    expect(() => restoreScript(backup({ layouts: [{ table: 'public.x', sqlName: '"public"."x\nCUTOVER_VERIFY_SQL\n"', columns: [] }] }), target)).toThrow(/no restore script/);
    expect(shellQuote(`it's`)).toBe(`'it'\\''s'`);
  });

  it('come with a written procedure holding the expected counts and the verification SQL', () => {
    const md = restoreProcedure(backup(), target, { jobs: 2 });
    expect(md).toContain('| public.orders | 3 | `00000000000000ff` |');
    expect(md).toContain('db.internal:5433');
    expect(md).toContain('postgresql-client-15');
    expect(md).toContain('--section=data --jobs=2');
    expect(md).toContain(verifySql(backup().layouts));
    // The verification runs as written: a here-document into psql, no file it does not provide.
    expect(md).not.toContain('verify.sql');
    expect(md).toContain(`-At -F '|' -d "$TARGET_DB" <<'CUTOVER_VERIFY_SQL'\n${verifySql(backup().layouts)}CUTOVER_VERIFY_SQL\n`);
  });

  it('say the versions, the time and the size as they are, and where to get the file', () => {
    const big = backup({ sizeBytes: 274788, fileName: 'shop-20261126-040000.dump' });
    const script = restoreScript(big, target);
    expect(script).toContain('(PostgreSQL 15.20 (Debian 15.20-0+deb12u1)), taken 2026-11-26T04:00:00.000Z with pg_dump 15.20');
    expect(script).toContain('268 kB (274,788 bytes)');
    expect(script).toContain('BACKUP_FILE="${1:-shop-20261126-040000.dump}"');
    expect(script).toContain('Download backup');
    expect(script).toContain('backups/t/r.dump');
    // A comment line loses only its line breaks: nothing after one can become a command.
    expect(restoreScript(backup({ serverVersion: '15\nrm -rf /' }), target)).toContain('(PostgreSQL 15 rm -rf /)');
    const md = restoreProcedure(big, target);
    expect(md).toContain('shop-20261126-040000.dump, 268 kB (274,788 bytes)');
    expect(md).not.toMatch(/274788 bytes/);
    expect(md).toContain('Download backup');
    expect(backupFileName('Shop for backups!', new Date('2026-11-26T04:05:06.789Z'))).toBe('shop-for-backups-20261126-040506.dump');
  });
});
