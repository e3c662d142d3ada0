import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTar, readZip, tarGz } from './archive';
import { migrationChecksum, migrationsFromArchive } from './prisma-migrations';

const files = [
  { path: 'prisma/migrations/migration_lock.toml', content: 'provider = "postgresql"\n' },
  { path: 'prisma/migrations/20240102000000_posts/migration.sql', content: 'CREATE TABLE "Post" ("id" SERIAL);\n' },
  { path: 'prisma/migrations/20240101000000_init/migration.sql', content: 'CREATE TABLE "User" ("id" SERIAL);\n' },
  { path: 'prisma/migrations/20240101000000_init/down.sql', content: 'DROP TABLE "User";\n' },
];

describe('archives of Prisma migrations folders', () => {
  it('writes a .tar.gz that the tar program extracts, and reads it back', () => {
    const archive = tarGz(files);
    const dir = mkdtempSync(path.join(tmpdir(), 'tar-'));
    writeFileSync(path.join(dir, 'm.tar.gz'), archive);
    execFileSync('tar', ['-xzf', 'm.tar.gz'], { cwd: dir });
    expect(readFileSync(path.join(dir, files[2].path), 'utf8')).toBe(files[2].content);
    expect(readTar(archive).map((f) => [f.path, f.content.toString()])).toEqual(files.map((f) => [f.path, f.content]));
  });

  it('reads archives made by the tar program, long names included', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tar-'));
    const deep = `m/${'x'.repeat(120)}_long/migration.sql`;
    mkdirSync(path.join(dir, path.dirname(deep)), { recursive: true });
    writeFileSync(path.join(dir, deep), 'SELECT 1;\n');
    execFileSync('tar', ['-czf', 'made.tar.gz', 'm'], { cwd: dir });
    const read = readTar(readFileSync(path.join(dir, 'made.tar.gz')));
    expect(read.map((f) => f.path)).toContain(deep);
  });

  it('reads zip archives, deflated or stored', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zip-'));
    const script = `import zipfile\nwith zipfile.ZipFile('m.zip', 'w') as z:\n  z.writestr('migrations/20240101000000_init/migration.sql', 'CREATE TABLE a (id int);\\n' * 50, compress_type=zipfile.ZIP_DEFLATED)\n  z.writestr('migrations/20240101000000_init/down.sql', 'DROP TABLE a;\\n', compress_type=zipfile.ZIP_STORED)\n  z.writestr('migrations/', '')\n`;
    execFileSync('python3', ['-c', script], { cwd: dir });
    const read = readZip(readFileSync(path.join(dir, 'm.zip')));
    expect(read.map((f) => f.path).sort()).toEqual(['migrations/20240101000000_init/down.sql', 'migrations/20240101000000_init/migration.sql']);
    expect(read.find((f) => f.path.endsWith('migration.sql'))!.content.toString()).toBe('CREATE TABLE a (id int);\n'.repeat(50));
    expect(() => readZip(Buffer.from('not a zip at all, not even close......'))).toThrow(/Not a zip archive/);
  });

  it('finds the migrations in order, with their checksums and down paths', () => {
    const found = migrationsFromArchive(readTar(tarGz(files)));
    expect(found.map((m) => m.name)).toEqual(['20240101000000_init', '20240102000000_posts']);
    expect(found[0]).toMatchObject({ checksum: migrationChecksum(files[2].content), downSql: 'DROP TABLE "User";\n' });
    expect(found[1].downSql).toBeUndefined();
  });
});
