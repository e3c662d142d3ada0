import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

// Everything that goes into `next build`; a change to any of them makes the build stale.
const SOURCES = ['app', 'components', 'lib', 'public', 'proxy.ts', 'next.config.js', 'postcss.config.mjs', 'package.json', 'tsconfig.json'];

function newestMtime(p: string): number {
  if (!existsSync(p)) return 0;
  const stat = statSync(p);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let max = 0;
  for (const entry of readdirSync(p, { withFileTypes: true })) {
    if (entry.name === 'generated' || entry.name.startsWith('.')) continue;
    max = Math.max(max, newestMtime(path.join(p, entry.name)));
  }
  return max;
}

/** Whether `.next` holds a production build, and whether a source file changed since it was made. */
export function buildState(): 'missing' | 'stale' | 'fresh' {
  const buildId = path.join('.next', 'BUILD_ID');
  if (!existsSync(buildId)) return 'missing';
  const builtAt = statSync(buildId).mtimeMs;
  return SOURCES.some((s) => newestMtime(s) > builtAt) ? 'stale' : 'fresh';
}
