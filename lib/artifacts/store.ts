import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Large artifacts (backup files, reports) outside the app store: the app store keeps their key,
 * sha256 and size, the artifact store their bytes. The interface speaks in streams so that an
 * S3-compatible store can implement it later; a store whose objects are files says so through
 * the optional `localPath`, and tools that need a file (pg_restore -j seeks) read a `copyVerified` copy.
 */
export interface StoredArtifact {
  key: string;
  sha256: string;
  sizeBytes: number;
}

/** Bytes to store: a stream, any async iterable of chunks (a child's stdout), or a file on this machine. */
export type ArtifactSource = Readable | AsyncIterable<Uint8Array> | { file: string };

export type ArtifactCheck =
  | { ok: true; sha256: string; sizeBytes: number }
  | { ok: false; problem: 'missing' | 'truncated' | 'size' | 'sha256'; message: string; sha256?: string; sizeBytes?: number };

export interface ArtifactStore {
  /** Where artifacts live, in words (for logs and errors, which every reader of a request sees: no credentials, no server paths). */
  readonly label: string;
  /** Stores the bytes under `key` (a new key: artifacts are never overwritten), hashing them on the way. */
  put(key: string, source: ArtifactSource, options?: { signal?: AbortSignal }): Promise<StoredArtifact>;
  /** The bytes, as a stream (optionally a range, inclusive ends as fs.createReadStream takes them). */
  open(key: string, options?: { start?: number; end?: number }): Promise<Readable>;
  /** The size of what is stored, or null when nothing is. */
  stat(key: string): Promise<{ sizeBytes: number } | null>;
  /** Reads the artifact whole and compares it with what was recorded when it was stored. */
  verify(key: string, expected: { sha256: string; sizeBytes: number }, options?: { signal?: AbortSignal }): Promise<ArtifactCheck>;
  delete(key: string): Promise<void>;
  /** The artifact's file on this machine, for stores whose objects are files. */
  localPath?(key: string): string;
}

/**
 * A key is a relative path of plain segments (letters, digits, `.`, `_`, `-`): never absolute,
 * never `..`, no empty or hidden segments (a leading dot is kept for the store's temporary files).
 */
export function assertArtifactKey(key: string): void {
  const ok =
    typeof key === 'string' &&
    key.length > 0 &&
    key.length <= 512 &&
    key.split('/').every((segment) => /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(segment) && segment !== '..' && segment.length <= 200);
  if (!ok) throw new Error(`Invalid artifact key ${JSON.stringify(key)}: use relative segments of letters, digits, ".", "_" and "-" separated by "/".`);
}

/** `CUTOVER_ARTIFACTS_DIR`, else `<CUTOVER_DATA_DIR or .data>/artifacts`. */
export function artifactsRoot(): string {
  // A folder named at run time, not part of the build (the comment keeps Next's tracer out of it).
  return path.resolve(/*turbopackIgnore: true*/ process.env.CUTOVER_ARTIFACTS_DIR ?? path.join(process.env.CUTOVER_DATA_DIR ?? '.data', 'artifacts'));
}

const sizeWords = (n: number) => `${n.toLocaleString('en-US')} bytes`;

/**
 * What a stored artifact's bytes say against what was recorded, in words a person can act on.
 * Size first: a truncated file is named as such before any hashing.
 */
export function describeMismatch(key: string, expected: { sha256: string; sizeBytes: number }, actual: { sha256?: string; sizeBytes: number }): ArtifactCheck {
  if (actual.sizeBytes < expected.sizeBytes) {
    return {
      ok: false, problem: 'truncated', sizeBytes: actual.sizeBytes,
      message: `${key} is truncated: ${sizeWords(actual.sizeBytes)} stored, ${sizeWords(expected.sizeBytes)} recorded when it was written.`,
    };
  }
  if (actual.sizeBytes !== expected.sizeBytes) {
    return {
      ok: false, problem: 'size', sizeBytes: actual.sizeBytes,
      message: `${key} has changed size: ${sizeWords(actual.sizeBytes)} stored, ${sizeWords(expected.sizeBytes)} recorded when it was written.`,
    };
  }
  if (actual.sha256 !== undefined && actual.sha256 !== expected.sha256) {
    return {
      ok: false, problem: 'sha256', sizeBytes: actual.sizeBytes, sha256: actual.sha256,
      message: `${key} is corrupted: its sha256 is ${actual.sha256}, but ${expected.sha256} was recorded when it was written.`,
    };
  }
  return { ok: true, sha256: expected.sha256, sizeBytes: actual.sizeBytes };
}

/** A stored artifact whose bytes are not those recorded when it was written. */
export class ArtifactIntegrityError extends Error {
  constructor(readonly check: Extract<ArtifactCheck, { ok: false }>) {
    super(check.message);
    this.name = 'ArtifactIntegrityError';
  }
}

function isFileSource(source: ArtifactSource): source is { file: string } {
  return typeof (source as { file?: unknown }).file === 'string';
}

/**
 * Artifacts as files under one directory (default `.data/artifacts`). A put writes to a temporary
 * name beside the final one, fsyncs the file, renames it and fsyncs the directory: a crash leaves
 * either the whole artifact or none under its key. Files are readable by this user only (a backup
 * holds the target's data).
 */
export class DirectoryArtifactStore implements ArtifactStore {
  readonly root: string;
  constructor(root: string = artifactsRoot()) {
    this.root = path.resolve(root);
  }

  /** Not the directory's path: run logs and errors that quote the label are shown to every reader of the request. */
  get label() {
    return 'the artifact store';
  }

  localPath(key: string): string {
    assertArtifactKey(key);
    return path.join(this.root, ...key.split('/'));
  }

  async put(key: string, source: ArtifactSource, options: { signal?: AbortSignal } = {}): Promise<StoredArtifact> {
    const final = this.localPath(key);
    const dir = path.dirname(final);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if (await exists(final)) throw new Error(`An artifact is already stored under ${key}: artifacts are never overwritten.`);
    const temporary = path.join(dir, `.${path.basename(final)}.${randomBytes(6).toString('hex')}.tmp`);
    const file = await open(temporary, 'wx', 0o600);
    const hash = createHash('sha256');
    let sizeBytes = 0;
    try {
      const chunks = isFileSource(source) ? createReadStream(source.file) : source;
      for await (const chunk of chunks as AsyncIterable<Uint8Array | string>) {
        options.signal?.throwIfAborted();
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        hash.update(bytes);
        sizeBytes += bytes.length;
        // Awaiting each write is the back-pressure: a fast source waits for the disk.
        for (let offset = 0; offset < bytes.length; ) offset += (await file.write(bytes, offset)).bytesWritten;
      }
      options.signal?.throwIfAborted();
      await file.sync();
      await file.close();
      await rename(temporary, final);
      await syncDirectory(dir);
    } catch (err) {
      await file.close().catch(() => undefined);
      await rm(temporary, { force: true });
      throw err;
    }
    return { key, sha256: hash.digest('hex'), sizeBytes };
  }

  async open(key: string, options: { start?: number; end?: number } = {}): Promise<Readable> {
    const file = this.localPath(key);
    if (!(await exists(file))) throw new Error(`No artifact is stored under ${key} in ${this.label}.`);
    return createReadStream(file, options);
  }

  async stat(key: string): Promise<{ sizeBytes: number } | null> {
    try {
      const s = await stat(this.localPath(key));
      return s.isFile() ? { sizeBytes: s.size } : null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async verify(key: string, expected: { sha256: string; sizeBytes: number }, options: { signal?: AbortSignal } = {}): Promise<ArtifactCheck> {
    const found = await this.stat(key);
    if (!found) return { ok: false, problem: 'missing', message: `${key} is missing from ${this.label}.` };
    if (found.sizeBytes !== expected.sizeBytes) return describeMismatch(key, expected, found);
    const hash = createHash('sha256');
    await pipeline(createReadStream(this.localPath(key)), hash, { signal: options.signal });
    return describeMismatch(key, expected, { sizeBytes: found.sizeBytes, sha256: hash.digest('hex') });
  }

  async delete(key: string): Promise<void> {
    await unlink(this.localPath(key)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(() => true, () => false);
}

/** A rename is durable once the directory holding it is synced. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Copies an artifact to a new private file (mode 0600, never over an existing one), hashing it
 * while it is written, and fails unless the copy has the `expected` sha256 and size: the copy is
 * what later steps read, so what was verified is what is used (a store without local files, or a
 * stored file whose bytes could change in place).
 */
export async function copyVerified(
  store: ArtifactStore,
  key: string,
  file: string,
  expected: { sha256: string; sizeBytes: number },
  signal?: AbortSignal,
): Promise<void> {
  const hash = createHash('sha256');
  let sizeBytes = 0;
  await pipeline(
    await store.open(key),
    async function* (chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) {
        hash.update(chunk);
        sizeBytes += chunk.length;
        yield chunk;
      }
    },
    createWriteStream(file, { mode: 0o600, flags: 'wx' }),
    { signal },
  );
  const check = describeMismatch(key, expected, { sizeBytes, sha256: hash.digest('hex') });
  if (!check.ok) throw new ArtifactIntegrityError(check);
}

/** This install's artifact store: the directory store (an S3-compatible one can take its place later). */
export function defaultArtifactStore(): ArtifactStore {
  return new DirectoryArtifactStore();
}
