import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrationChecksum, readMigrationsDir } from './prisma-migrations';
import { decryptSecret, encryptSecret, parseSecretKey } from './secrets';

describe('migration files', () => {
  it('checksums like Prisma Migrate: sha256 hex of the bytes on disk', () => {
    const sql = 'CREATE TABLE "a" ("id" INTEGER);\r\n';
    expect(migrationChecksum(sql)).toBe(createHash('sha256').update(sql).digest('hex'));
    expect(migrationChecksum(sql)).not.toBe(migrationChecksum(sql.replace('\r\n', '\n')));
  });

  it('reads a Prisma migrations folder in name order, skipping files and folders without migration.sql', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'migs-'));
    for (const name of ['20240102000000_second', '20240101000000_first', 'not_a_migration']) mkdirSync(path.join(dir, name));
    writeFileSync(path.join(dir, '20240101000000_first', 'migration.sql'), 'SELECT 1;');
    writeFileSync(path.join(dir, '20240102000000_second', 'migration.sql'), 'SELECT 2;');
    writeFileSync(path.join(dir, 'migration_lock.toml'), 'provider = "postgresql"');
    const found = readMigrationsDir(dir);
    expect(found.map((m) => m.name)).toEqual(['20240101000000_first', '20240102000000_second']);
    expect(found[0].checksum).toBe(migrationChecksum('SELECT 1;'));
  });

  it('says which folder is missing', () => {
    expect(() => readMigrationsDir('/nonexistent/migs')).toThrow('Migrations folder not found: /nonexistent/migs');
  });
});

describe('secrets at rest', () => {
  const key = randomBytes(32);

  it('round-trips, with a fresh IV each time', () => {
    const a = encryptSecret('s3cret', key);
    const b = encryptSecret('s3cret', key);
    expect(a).not.toBe(b);
    expect(a).not.toContain('s3cret');
    expect(decryptSecret(a, key)).toBe('s3cret');
  });

  it('refuses a tampered ciphertext or the wrong key', () => {
    const stored = Buffer.from(encryptSecret('s3cret', key), 'base64');
    stored[stored.length - 1] ^= 1;
    expect(() => decryptSecret(stored.toString('base64'), key)).toThrow();
    expect(() => decryptSecret(encryptSecret('s3cret', key), randomBytes(32))).toThrow();
  });

  it('takes the key as hex or base64, and only 32 bytes', () => {
    const raw = randomBytes(32);
    expect(parseSecretKey(raw.toString('hex')).equals(raw)).toBe(true);
    expect(parseSecretKey(raw.toString('base64')).equals(raw)).toBe(true);
    expect(() => parseSecretKey('abcd')).toThrow(/32 bytes/);
  });
});
