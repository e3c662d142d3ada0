import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DirectoryArtifactStore, assertArtifactKey, artifactsRoot, copyVerified, type ArtifactStore } from './store';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('DirectoryArtifactStore', () => {
  let root: string;
  let store: DirectoryArtifactStore;
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'cutover-store-test-'));
    store = new DirectoryArtifactStore(root);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('stores a stream under its key with the sha256 and size of what was written, privately', async () => {
    const body = Buffer.concat([Buffer.alloc(300_000, 7), Buffer.from('tail')]);
    const stored = await store.put('backups/t1/run-1.dump', Readable.from([body.subarray(0, 1000), body.subarray(1000)]));
    expect(stored).toEqual({ key: 'backups/t1/run-1.dump', sha256: sha(body), sizeBytes: body.length });
    const file = path.join(root, 'backups', 't1', 'run-1.dump');
    expect(readFileSync(file).equals(body)).toBe(true);
    expect(statSync(file).mode & 0o077).toBe(0);
    // No temporary file is left beside it.
    expect(readdirSync(path.dirname(file))).toEqual(['run-1.dump']);
    expect(await store.stat('backups/t1/run-1.dump')).toEqual({ sizeBytes: body.length });
    expect((await readAll(await store.open('backups/t1/run-1.dump'))).equals(body)).toBe(true);
    expect((await readAll(await store.open('backups/t1/run-1.dump', { start: 300_000, end: 300_003 }))).toString()).toBe('tail');
  });

  it('stores a file and an async iterable of chunks', async () => {
    const src = path.join(root, 'source.bin');
    writeFileSync(src, 'from a file');
    expect(await store.put('a/file.bin', { file: src })).toMatchObject({ sha256: sha('from a file'), sizeBytes: 11 });
    async function* chunks() {
      yield Buffer.from('one ');
      yield new Uint8Array(Buffer.from('two'));
    }
    expect(await store.put('a/iter.bin', chunks())).toMatchObject({ sha256: sha('one two'), sizeBytes: 7 });
  });

  it('never overwrites an artifact, and a failed or aborted put leaves nothing under the key', async () => {
    await store.put('k.bin', Readable.from([Buffer.from('first')]));
    await expect(store.put('k.bin', Readable.from([Buffer.from('second')]))).rejects.toThrow(/already stored/);
    expect(readFileSync(path.join(root, 'k.bin'), 'utf8')).toBe('first');

    async function* failing() {
      yield Buffer.from('partial');
      throw new Error('the source broke');
    }
    await expect(store.put('broken.bin', failing())).rejects.toThrow('the source broke');
    const controller = new AbortController();
    async function* slow() {
      yield Buffer.from('a');
      controller.abort();
      yield Buffer.from('b');
    }
    await expect(store.put('aborted.bin', slow(), { signal: controller.signal })).rejects.toThrow();
    expect(readdirSync(root).sort()).toEqual(['k.bin']);
    expect(await store.stat('broken.bin')).toBeNull();
  });

  it('verifies size and sha256, naming a truncated, corrupted or missing file', async () => {
    const body = Buffer.from('0123456789'.repeat(1000));
    const stored = await store.put('v.dump', Readable.from([body]));
    expect(await store.verify('v.dump', stored)).toEqual({ ok: true, sha256: stored.sha256, sizeBytes: body.length });

    const file = store.localPath('v.dump');
    const flipped = Buffer.from(body);
    flipped[5000] ^= 0x01;
    writeFileSync(file, flipped);
    const corrupted = await store.verify('v.dump', stored);
    expect(corrupted).toMatchObject({ ok: false, problem: 'sha256', sha256: sha(flipped) });
    expect(!corrupted.ok && corrupted.message).toMatch(/v\.dump is corrupted: its sha256 is [0-9a-f]{64}, but [0-9a-f]{64} was recorded/);

    truncateSync(file, 4096);
    const truncated = await store.verify('v.dump', stored);
    expect(truncated).toMatchObject({ ok: false, problem: 'truncated', sizeBytes: 4096 });
    expect(!truncated.ok && truncated.message).toMatch(/truncated: 4,096 bytes stored, 10,000 bytes recorded/);

    await store.delete('v.dump');
    await store.delete('v.dump'); // deleting twice is fine
    expect(await store.verify('v.dump', stored)).toMatchObject({ ok: false, problem: 'missing' });
  });

  it('refuses keys that leave the store or hide among its temporary files', async () => {
    for (const bad of ['../x', 'a/../../x', '/etc/passwd', 'a//b', '', '.hidden', 'a/.tmp', 'a\\b', 'a/b/', 'sp ace', '..']) {
      expect(() => assertArtifactKey(bad), bad).toThrow(/Invalid artifact key/);
      await expect(store.put(bad, Readable.from([Buffer.from('x')]))).rejects.toThrow(/Invalid artifact key/);
    }
    for (const good of ['backups/abc/run_1.dump', 'x', 'a.b-c_d/e.checksums.json']) expect(() => assertArtifactKey(good)).not.toThrow();
  });

  it('copies an artifact to a private file only when the copy has the recorded sha256 and size', async () => {
    const body = Buffer.from('dump bytes');
    const stored = await store.put('l.dump', Readable.from([body]));
    // The store seen through the interface alone, as an S3-compatible store would be.
    const remote: ArtifactStore = {
      label: 'remote', put: store.put.bind(store), open: store.open.bind(store), stat: store.stat.bind(store),
      verify: store.verify.bind(store), delete: store.delete.bind(store),
    };
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cutover-copy-'));
    try {
      await copyVerified(remote, 'l.dump', path.join(dir, 'ok.dump'), stored);
      expect(readFileSync(path.join(dir, 'ok.dump'), 'utf8')).toBe('dump bytes');
      expect(statSync(path.join(dir, 'ok.dump')).mode & 0o777).toBe(0o600);
      // Never over an existing file, and a copy of other bytes than recorded fails.
      await expect(copyVerified(remote, 'l.dump', path.join(dir, 'ok.dump'), stored)).rejects.toThrow(/EEXIST/);
      await expect(copyVerified(remote, 'l.dump', path.join(dir, 'bad.dump'), { ...stored, sha256: '0'.repeat(64) })).rejects.toThrow(/corrupted/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lives under CUTOVER_ARTIFACTS_DIR, else the data directory', () => {
    const saved = { a: process.env.CUTOVER_ARTIFACTS_DIR, d: process.env.CUTOVER_DATA_DIR };
    try {
      delete process.env.CUTOVER_ARTIFACTS_DIR;
      delete process.env.CUTOVER_DATA_DIR;
      expect(artifactsRoot()).toBe(path.resolve('.data/artifacts'));
      process.env.CUTOVER_DATA_DIR = '/srv/cutover';
      expect(artifactsRoot()).toBe('/srv/cutover/artifacts');
      process.env.CUTOVER_ARTIFACTS_DIR = '/mnt/backups';
      expect(artifactsRoot()).toBe('/mnt/backups');
    } finally {
      for (const [k, v] of [['CUTOVER_ARTIFACTS_DIR', saved.a], ['CUTOVER_DATA_DIR', saved.d]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
