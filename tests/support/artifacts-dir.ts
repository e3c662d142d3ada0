import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A temporary artifact store for one test file: CUTOVER_ARTIFACTS_DIR points at it until `restore`. */
export interface TemporaryArtifactsDir {
  /** The folder the artifact store writes to (tests read the stored files from it). */
  readonly dir: string;
  /** Puts CUTOVER_ARTIFACTS_DIR back as it was and removes the folder with everything in it. */
  restore(): void;
}

/**
 * Points the artifact store (lib/artifacts/store.ts reads CUTOVER_ARTIFACTS_DIR per call) at a fresh
 * temporary folder, so backups and reports a test writes never land in the developer's `.data`.
 * Call in beforeAll; call `restore` in afterAll.
 */
export function useTemporaryArtifactsDir(name: string): TemporaryArtifactsDir {
  const dir = mkdtempSync(path.join(os.tmpdir(), `cutover-${name}-`));
  const saved = process.env.CUTOVER_ARTIFACTS_DIR;
  process.env.CUTOVER_ARTIFACTS_DIR = dir;
  return {
    dir,
    restore() {
      if (saved === undefined) delete process.env.CUTOVER_ARTIFACTS_DIR;
      else process.env.CUTOVER_ARTIFACTS_DIR = saved;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
