import { timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

/** Where `npm start` keeps the first admin's generated password until that admin first signs in. */
export function initialAdminPasswordFile(dataDir = process.env.CUTOVER_DATA_DIR ?? '.data'): string {
  return path.resolve(/*turbopackIgnore: true*/ dataDir, 'initial-admin-password');
}

/**
 * Called after every successful password sign-in: when the password used is the one in the
 * initial-admin-password file, the first admin has signed in, so the file is removed (the
 * password was printed once; it should not lie on disk). Never throws.
 */
export function forgetInitialAdminPassword(passwordUsed: string | undefined, file = initialAdminPasswordFile()): boolean {
  try {
    // turbopackIgnore: a file outside the app at run time, not something to bundle.
    if (!passwordUsed || !existsSync(/*turbopackIgnore: true*/ file)) return false;
    const stored = Buffer.from(readFileSync(/*turbopackIgnore: true*/ file, 'utf8').trim());
    const used = Buffer.from(passwordUsed);
    if (stored.length !== used.length || !timingSafeEqual(stored, used)) return false;
    rmSync(/*turbopackIgnore: true*/ file, { force: true });
    return true;
  } catch {
    return false;
  }
}
