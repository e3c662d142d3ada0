import { gunzipSync, gzipSync, inflateRawSync } from 'node:zlib';

/** One file of an archive: a relative path with forward slashes, and its contents. */
export interface ArchiveFile {
  path: string;
  content: string | Buffer;
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

/** A POSIX ustar header block for one regular file. */
function header(path: string, size: number, mtime: number): Buffer {
  const block = Buffer.alloc(512, 0);
  let name = path;
  let prefix = '';
  if (Buffer.byteLength(name) > 100) {
    const cut = path.lastIndexOf('/', 155);
    prefix = path.slice(0, cut);
    name = path.slice(cut + 1);
  }
  if (Buffer.byteLength(name) > 100 || Buffer.byteLength(prefix) > 155) throw new Error(`Path too long for a tar archive: ${path}`);
  block.write(name, 0, 100, 'utf8');
  block.write(octal(0o644, 8), 100, 8, 'ascii');
  block.write(octal(0, 8), 108, 8, 'ascii');
  block.write(octal(0, 8), 116, 8, 'ascii');
  block.write(octal(size, 12), 124, 12, 'ascii');
  block.write(octal(mtime, 12), 136, 12, 'ascii');
  block.write('        ', 148, 8, 'ascii'); // checksum field counts as spaces while summing
  block.write('0', 156, 1, 'ascii');
  block.write('ustar\0', 257, 6, 'ascii');
  block.write('00', 263, 2, 'ascii');
  block.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(octal(sum, 7) + ' ', 148, 8, 'ascii');
  return block;
}

/** A gzipped ustar archive of the files, as `tar -xzf` reads it. */
export function tarGz(files: ArchiveFile[], mtime = new Date()): Buffer {
  const seconds = Math.floor(mtime.getTime() / 1000);
  const parts: Buffer[] = [];
  for (const f of files) {
    const body = Buffer.isBuffer(f.content) ? f.content : Buffer.from(f.content, 'utf8');
    parts.push(header(f.path, body.length, seconds), body, Buffer.alloc((512 - (body.length % 512)) % 512, 0));
  }
  parts.push(Buffer.alloc(1024, 0));
  return gzipSync(Buffer.concat(parts));
}

/**
 * What an uploaded archive may hold. Uploads come from people, so every number is checked
 * before the bytes it governs are unpacked: a small archive must not become gigabytes in memory.
 */
export interface ArchiveLimits {
  /** The archive as uploaded (compressed). */
  maxArchiveBytes: number;
  /** Everything unpacked together (for .tar.gz: the whole tar stream). */
  maxUnpackedBytes: number;
  /** Files, folders and headers together. */
  maxEntries: number;
  /** One file unpacked. */
  maxFileBytes: number;
}

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  maxArchiveBytes: 10_000_000,
  maxUnpackedBytes: 32_000_000,
  maxEntries: 10_000,
  maxFileBytes: 1_000_000,
};

/** A refusal on size or count: its message is meant for the person who uploaded the archive. */
export class ArchiveLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArchiveLimitError';
  }
}

// Decimal units, as the editor's "at most 1 MB" (1,000,000 bytes).
const mb = (bytes: number) => (bytes < 1_000_000 ? `${Math.ceil(bytes / 1000)} KB` : `${Math.round(bytes / 100_000) / 10} MB`);
const tooManyEntries = (count: number | string, limits: ArchiveLimits) =>
  new ArchiveLimitError(`The archive has ${count} entries; at most ${limits.maxEntries.toLocaleString('en-US')} are allowed.`);
const tooBigUnpacked = (limits: ArchiveLimits) =>
  new ArchiveLimitError(`The archive unpacks to more than ${mb(limits.maxUnpackedBytes)}; upload only the migrations folder.`);
const fileTooBig = (name: string, limits: ArchiveLimits) =>
  new ArchiveLimitError(`${name} is larger than ${mb(limits.maxFileBytes)}, the most one migration file may hold.`);

function checkArchiveSize(archive: Buffer, limits: ArchiveLimits) {
  if (archive.length > limits.maxArchiveBytes) throw new ArchiveLimitError(`Archives can be at most ${mb(limits.maxArchiveBytes)}.`);
}

/** zlib stops at maxOutputLength instead of allocating whatever the stream claims to hold. */
function inflateCapped(inflate: typeof gunzipSync, data: Buffer, max: number, onTooBig: () => Error): Buffer {
  try {
    return inflate(data, { maxOutputLength: max });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) throw onTooBig();
    throw err;
  }
}

/** The path=... record of a pax extended header, which overrides the next entry's name. */
function paxPath(body: Buffer): string | null {
  const text = body.toString('utf8');
  for (let i = 0; i < text.length; ) {
    const space = text.indexOf(' ', i);
    const length = parseInt(text.slice(i, space), 10);
    if (!(length > 0) || space < 0) break;
    const record = text.slice(space + 1, i + length - 1);
    if (record.startsWith('path=')) return record.slice(5);
    i += length;
  }
  return null;
}

/** Reads the regular files of a (gzipped or plain) ustar archive, GNU long names and pax paths included. */
export function readTar(archive: Buffer, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS): ArchiveFile[] {
  checkArchiveSize(archive, limits);
  const gzipped = archive[0] === 0x1f && archive[1] === 0x8b;
  const data = gzipped ? inflateCapped(gunzipSync, archive, limits.maxUnpackedBytes, () => tooBigUnpacked(limits)) : archive;
  if (data.length > limits.maxUnpackedBytes) throw tooBigUnpacked(limits);
  const files: ArchiveFile[] = [];
  let longName: string | null = null;
  let entries = 0;
  for (let offset = 0; offset + 512 <= data.length; ) {
    const block = data.subarray(offset, offset + 512);
    if (block.every((b) => b === 0)) break;
    if (++entries > limits.maxEntries) throw tooManyEntries(`more than ${limits.maxEntries.toLocaleString('en-US')}`, limits);
    const field = (start: number, length: number) => block.subarray(start, start + length).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    if (!Number.isFinite(size) || size < 0) throw new Error('Damaged tar archive (bad size field).');
    const type = field(156, 1) || '0';
    const prefix = field(345, 155);
    const name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    const body = data.subarray(offset + 512, offset + 512 + size);
    longName = null;
    if (type === 'L') longName = body.toString('utf8').replace(/\0.*$/s, ''); // GNU long name for the next entry
    else if (type === 'x') longName = paxPath(body); // pax header (bsdtar, macOS): the next entry's path
    else if (type === '0' || type === '\0' || type === '7') {
      if (size > limits.maxFileBytes) throw fileTooBig(name, limits);
      files.push({ path: name.replace(/^\.\//, ''), content: Buffer.from(body) });
    }
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

/** The end of central directory record, with ZIP64's wider counts when the archive uses them. */
function zipDirectory(archive: Buffer): { count: number; offset: number } {
  let end = -1;
  for (let i = archive.length - 22; i >= Math.max(0, archive.length - 65_557); i--) {
    if (archive.readUInt32LE(i) === 0x06054b50) {
      end = i;
      break;
    }
  }
  if (end < 0) throw new Error('Not a zip archive (no end of central directory).');
  let count = archive.readUInt16LE(end + 10);
  let offset = archive.readUInt32LE(end + 16);
  const locator = end - 20;
  if ((count === 0xffff || offset === 0xffffffff) && locator >= 0 && archive.readUInt32LE(locator) === 0x07064b50) {
    const record = Number(archive.readBigUInt64LE(locator + 8));
    if (record + 56 > archive.length || archive.readUInt32LE(record) !== 0x06064b50) throw new Error('Damaged zip archive (ZIP64 record).');
    count = Number(archive.readBigUInt64LE(record + 32));
    offset = Number(archive.readBigUInt64LE(record + 48));
  }
  return { count, offset };
}

/** Reads the files of a zip archive (stored or deflated entries), from its central directory. */
export function readZip(archive: Buffer, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS): ArchiveFile[] {
  checkArchiveSize(archive, limits);
  const { count, offset } = zipDirectory(archive);
  // The count comes first: 100,000 tiny entries are refused before one is read.
  if (count > limits.maxEntries) throw tooManyEntries(count.toLocaleString('en-US'), limits);
  let p = offset;
  let unpacked = 0;
  const files: ArchiveFile[] = [];
  for (let n = 0; n < count; n++) {
    if (p + 46 > archive.length || archive.readUInt32LE(p) !== 0x02014b50) throw new Error('Damaged zip archive.');
    const method = archive.readUInt16LE(p + 10);
    const compressed = archive.readUInt32LE(p + 20);
    const declared = archive.readUInt32LE(p + 24);
    const nameLength = archive.readUInt16LE(p + 28);
    const extraLength = archive.readUInt16LE(p + 30);
    const commentLength = archive.readUInt16LE(p + 32);
    const local = archive.readUInt32LE(p + 42);
    const name = archive.subarray(p + 46, p + 46 + nameLength).toString('utf8');
    p += 46 + nameLength + extraLength + commentLength;
    if (name.endsWith('/')) continue;
    // Declared sizes can lie, so they only refuse early; inflating is capped on its own below.
    if (declared > limits.maxFileBytes) throw fileTooBig(name, limits);
    if (local + 30 > archive.length) throw new Error('Damaged zip archive.');
    const start = local + 30 + archive.readUInt16LE(local + 26) + archive.readUInt16LE(local + 28);
    const raw = archive.subarray(start, start + compressed);
    if (method !== 0 && method !== 8) throw new Error(`${name}: zip compression method ${method} is not supported (use deflate).`);
    const room = limits.maxUnpackedBytes - unpacked;
    const content =
      method === 0
        ? Buffer.from(raw)
        : inflateCapped(inflateRawSync, raw, Math.min(limits.maxFileBytes, room) + 1, () => (room <= limits.maxFileBytes ? tooBigUnpacked(limits) : fileTooBig(name, limits)));
    if (content.length > limits.maxFileBytes) throw fileTooBig(name, limits);
    unpacked += content.length;
    if (unpacked > limits.maxUnpackedBytes) throw tooBigUnpacked(limits);
    files.push({ path: name, content });
  }
  return files;
}

/** Reads an uploaded .tar.gz, .tar or .zip by its first bytes, whatever its name says; null when it is none of them. */
export function readArchive(archive: Buffer, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS): ArchiveFile[] | null {
  if (archive[0] === 0x50 && archive[1] === 0x4b) return readZip(archive, limits);
  if ((archive[0] === 0x1f && archive[1] === 0x8b) || archive.subarray(257, 262).toString() === 'ustar') return readTar(archive, limits);
  return null;
}
