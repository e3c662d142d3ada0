import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArchiveLimitError, readArchive, readTar, readZip, tarGz } from './archive';
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

/** A gzip of `total` zero bytes, made in 1 MiB steps so that building it costs no memory itself. */
async function gzipBomb(total: number): Promise<Buffer> {
  const { createGzip, constants } = await import('node:zlib');
  const gzip = createGzip({ level: constants.Z_BEST_COMPRESSION });
  const out: Buffer[] = [];
  gzip.on('data', (c: Buffer) => out.push(c));
  const done = new Promise((resolve) => gzip.on('end', resolve));
  const zeros = Buffer.alloc(1024 * 1024);
  for (let written = 0; written < total; written += zeros.length) {
    if (!gzip.write(zeros)) await new Promise((resolve) => gzip.once('drain', resolve));
  }
  gzip.end();
  await done;
  return Buffer.concat(out);
}

/** Peak resident memory so far, in bytes (monotonic: it cannot miss a spike between samples). */
const peakRss = () => process.resourceUsage().maxRSS * 1024;

describe('archive limits', () => {
  const limits = { maxArchiveBytes: 10_000_000, maxUnpackedBytes: 32_000_000, maxEntries: 10_000, maxFileBytes: 1_000_000 };

  it('refuses a 1,000:1 gzip bomb with a clear message, without unpacking it into memory', async () => {
    const unpacked = 1024 * 1024 * 1024; // 1 GiB of zeros
    const bomb = await gzipBomb(unpacked);
    expect(unpacked / bomb.length).toBeGreaterThan(1000);
    expect(bomb.length).toBeLessThan(limits.maxArchiveBytes); // the upload itself is allowed: only unpacking is refused
    const before = peakRss();
    expect(() => readArchive(bomb, limits)).toThrow(ArchiveLimitError);
    expect(() => readTar(bomb, limits)).toThrow('The archive unpacks to more than 32 MB; upload only the migrations folder.');
    // Bounded by the cap (32 MB) plus zlib's buffers, far from the 1 GiB it holds.
    expect(peakRss() - before).toBeLessThan(96 * 1024 * 1024);
  }, 60_000);

  it('refuses a zip with 100,000 entries from its directory, before reading one', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zip-'));
    const script = `import zipfile\nwith zipfile.ZipFile('many.zip', 'w', zipfile.ZIP_STORED) as z:\n  for i in range(100000): z.writestr(str(i), '')\n`;
    execFileSync('python3', ['-c', script], { cwd: dir });
    const many = readFileSync(path.join(dir, 'many.zip'));
    expect(many.length).toBeLessThan(limits.maxArchiveBytes);
    const before = peakRss();
    const started = performance.now();
    expect(() => readArchive(many, limits)).toThrow('The archive has 100,000 entries; at most 10,000 are allowed.');
    expect(performance.now() - started).toBeLessThan(200);
    expect(peakRss() - before).toBeLessThan(16 * 1024 * 1024);
  });

  it('refuses a tar with too many entries, a file over the per-file limit and an oversized upload', () => {
    const many = tarGz(Array.from({ length: 30 }, (_, i) => ({ path: `m/${i}.sql`, content: 'SELECT 1;\n' })));
    expect(() => readTar(many, { ...limits, maxEntries: 20 })).toThrow('The archive has more than 20 entries; at most 20 are allowed.');
    const big = tarGz([{ path: 'm/20240101000000_init/migration.sql', content: 'x'.repeat(1_000_001) }]);
    expect(() => readTar(big, limits)).toThrow('m/20240101000000_init/migration.sql is larger than 1 MB, the most one migration file may hold.');
    expect(() => readTar(big, { ...limits, maxArchiveBytes: 1000 })).toThrow('Archives can be at most 1 KB.');
  });

  it('refuses a deflated zip entry that inflates past the per-file limit, whatever size it declares', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zip-'));
    const script = `import zipfile\nwith zipfile.ZipFile('big.zip', 'w', zipfile.ZIP_DEFLATED) as z:\n  z.writestr('m/1/migration.sql', 'x' * 5000000)\n`;
    execFileSync('python3', ['-c', script], { cwd: dir });
    const zip = readFileSync(path.join(dir, 'big.zip'));
    expect(() => readZip(zip, limits)).toThrow(/m\/1\/migration.sql is larger than 1 MB/);
    // Lie about the size in the central directory: the inflater's own cap still holds.
    const liar = Buffer.from(zip);
    const cd = liar.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    liar.writeUInt32LE(10, cd + 24);
    expect(() => readZip(liar, limits)).toThrow(/m\/1\/migration.sql is larger than 1 MB/);
  });

  it('reads pax path headers (bsdtar and macOS write them for long names)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tar-'));
    const deep = `m/${'y'.repeat(120)}_long/migration.sql`;
    mkdirSync(path.join(dir, path.dirname(deep)), { recursive: true });
    writeFileSync(path.join(dir, deep), 'SELECT 1;\n');
    execFileSync('tar', ['--format=pax', '-czf', 'pax.tar.gz', 'm'], { cwd: dir });
    expect(readTar(readFileSync(path.join(dir, 'pax.tar.gz'))).map((f) => f.path)).toContain(deep);
  });
});
