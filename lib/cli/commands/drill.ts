import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { DirectoryArtifactStore, assertArtifactKey } from '../../artifacts/store';
import { TableChecksumSchema } from '../../domain/backups';
import { DEFAULT_ALLOWED_EXTENSIONS, drillRestore } from '../../engine';
import { EXIT, UsageError, commandSandbox, defineCommand, url } from '../command';
import { checksumsFileOf } from './backup';

/** FILE.checksums.json as `cutover backup` writes it: what the drill checks the file and the restored tables against. */
const ChecksumsFileSchema = z.looseObject({
  schema: z.literal('cutover-backup-checksums/1'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  sizeBytes: z.number().int().min(0),
  checksums: z.array(TableChecksumSchema),
});

/** Restores a backup into a sandbox and proves each table equal to the checksums taken with it. */
export default defineCommand({
  name: 'drill',
  usage: `  drill     --backup FILE         restore drill of a backup written by \`cutover backup\`: checks
            [--sandbox-url URL]   FILE's size and sha256 against FILE.checksums.json (a corrupted
            [--allow-extension E] or truncated file fails before anything is restored), restores it
                                  into a sandbox (embedded PostgreSQL, or --sandbox-url) as a role
                                  without rights, and compares every table's row count and
                                  checksum with the backup's; the copy is dropped`,
  flags: z.strictObject({ backup: z.string().min(1), 'sandbox-url': url.optional(), 'allow-extension': z.string().optional() }),
  async run(input, { json, io }) {
    const file = path.resolve(input.backup);
    const name = path.basename(file);
    try {
      assertArtifactKey(name);
    } catch {
      throw new UsageError(`--backup: ${JSON.stringify(name)} is not a file name \`cutover backup\` writes.`);
    }
    let raw: string;
    try {
      raw = readFileSync(checksumsFileOf(file), 'utf8');
    } catch {
      throw new UsageError(`${checksumsFileOf(input.backup)} is missing: the drill checks the backup against the checksums file \`cutover backup\` writes beside it.`);
    }
    let parsed;
    try {
      parsed = ChecksumsFileSchema.safeParse(JSON.parse(raw));
    } catch {
      parsed = null;
    }
    if (!parsed?.success) throw new UsageError(`${checksumsFileOf(input.backup)} is not a checksums file written by \`cutover backup\`.`);
    const recorded = parsed.data;
    const extensions = (input['allow-extension'] ?? '').split(',').map((x) => x.trim()).filter(Boolean);
    const sandbox = commandSandbox(input['sandbox-url'], (own) => !json && io.err(`sandbox: ${own.label}, started in ${own.startMs} ms`));
    const result = await drillRestore(
      new DirectoryArtifactStore(path.dirname(file)),
      { key: name, sha256: recorded.sha256, sizeBytes: recorded.sizeBytes, checksums: recorded.checksums },
      // Started only once the file has passed its checks.
      () => sandbox.get(),
      { fence: { allowedKinds: [], allowedExtensions: [...DEFAULT_ALLOWED_EXTENSIONS, ...extensions] }, onProgress: (p) => !json && !p.table && io.err(p.message) },
    ).finally(() => sandbox.stop());
    if (json) io.out(JSON.stringify({ backup: file, ...result }, null, 2));
    else {
      for (const t of result.tables) io.out(`${t.equal ? 'equal  ' : 'DIFFERS'} ${t.table}: ${t.rows} rows, checksum ${t.expected}${t.equal ? '' : ` (restored: ${t.actualRows ?? 'missing'} rows, ${t.actual ?? '—'})`}`);
      io.out(result.ok
        ? `\nRestore drill passed: ${result.tables.length} tables equal to the backup's checksums (restore ${result.restoreMs} ms, file check ${result.integrityMs} ms, checksums ${result.verifyMs} ms).`
        : `\nRestore drill failed${result.failedStep ? ` at ${result.failedStep}` : ''}: ${result.error}`);
    }
    return result.ok ? EXIT.ok : EXIT.failed;
  },
});
