import { parseSecretKey } from '../engine';

let cached: Buffer | undefined;

/** The key that encrypts target passwords at rest (CUTOVER_SECRET_KEY; `npm start` provides one). */
export function secretKey(): Buffer {
  if (!cached) {
    const value = process.env.CUTOVER_SECRET_KEY;
    if (!value) throw new Error('CUTOVER_SECRET_KEY is not set; target passwords cannot be encrypted or read.');
    cached = parseSecretKey(value);
  }
  return cached;
}
