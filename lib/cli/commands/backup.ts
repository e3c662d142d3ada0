import { existsSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { z } from 'zod';
import { DirectoryArtifactStore, assertArtifactKey } from '../../artifacts/store';
import { formatBytes } from '../../domain/format-bytes';
import { backupDatabase, type BackupResult } from '../../engine';
import { EXIT, UsageError, defineCommand, settingsFromUrl, url } from '../command';

/** What `cutover backup` writes beside the dump (FILE.checksums.json) and `cutover drill` reads back. */
export interface ChecksumsFile extends Omit<BackupResult, 'key'> {
  schema: 'cutover-backup-checksums/1';
  /** The dump's file name (beside this file). */
  file: string;
}

export const checksumsFileOf = (file: string) => `${file}.checksums.json`;

/** A consistent backup: pg_dump -Fc of an exported snapshot, with per-table checksums in that snapshot. */
export default defineCommand({
  name: 'backup',
  usage: `  backup    --url URL --out FILE  back up the database (pg_dump -Fc, read-only) into FILE, and
                                  FILE.checksums.json beside it: its sha256 and size, the server
                                  and pg_dump versions, and each table's row count and checksum
                                  taken in the very snapshot pg_dump dumped (writers may go on)`,
  flags: z.strictObject({ url, out: z.string().min(1) }),
  async run(input, { json, io }) {
    const file = path.resolve(input.out);
    const name = path.basename(file);
    try {
      assertArtifactKey(name);
    } catch {
      throw new UsageError(`--out: name the file with letters, digits, ".", "_" and "-" (not ${JSON.stringify(name)}).`);
    }
    if (existsSync(file) || existsSync(checksumsFileOf(file))) throw new UsageError(`${input.out} (or its .checksums.json) already exists: choose another name.`);
    // The dump's folder as an artifact store: written under a temporary name, fsynced, renamed.
    const store = new DirectoryArtifactStore(path.dirname(file));
    const result = await backupDatabase(settingsFromUrl(input.url), store, name, {
      onProgress: (p) => {
        if (json || (p.stage === 'dumping' && !p.tablesDumped)) return;
        // The folder of --out serves as the artifact store here: name the file itself, not the store.
        if (p.stage === 'stored') io.err(`dump complete: ${file} (${formatBytes(p.bytesWritten ?? 0)})`);
        else io.err(p.stage === 'dumping' ? `dumping ${p.table} (${p.tablesDumped} of ${p.tablesTotal})` : p.message);
      },
    });
    const { key: _key, ...facts } = result;
    const record: ChecksumsFile = { schema: 'cutover-backup-checksums/1', file: name, ...facts };
    await store.put(path.basename(checksumsFileOf(file)), Readable.from([Buffer.from(JSON.stringify(record, null, 2) + '\n')]));
    const rows = result.checksums.reduce((n, c) => n + c.rows, 0);
    if (json) io.out(JSON.stringify({ ok: true, out: file, checksumsFile: checksumsFileOf(file), ...record }, null, 2));
    else {
      io.out(`wrote the backup to ${file}: ${formatBytes(result.sizeBytes)} (${result.sizeBytes.toLocaleString('en-US')} bytes), sha256 ${result.sha256}`);
      io.out(`  PostgreSQL ${result.serverVersion}, pg_dump ${result.pgDumpVersion}, ${result.durationMs} ms (pg_dump ${result.dumpMs} ms, then checksums ${result.checksumMs} ms)`);
      for (const c of result.checksums) io.out(`  ${c.table}: ${c.rows} rows, checksum ${c.checksum}`);
      io.out(`wrote ${checksumsFileOf(file)}: ${result.checksums.length} tables, ${rows} rows`);
    }
    return EXIT.ok;
  },
});
