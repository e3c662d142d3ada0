import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

// AES-256-GCM; stored as base64(iv[12] | tag[16] | ciphertext). The key never leaves the server.
const IV_BYTES = 12;
const TAG_BYTES = 16;

export function parseSecretKey(value: string): Buffer {
  const key = Buffer.from(value.trim(), /^[0-9a-f]{64}$/i.test(value.trim()) ? 'hex' : 'base64');
  if (key.length !== 32) throw new Error('CUTOVER_SECRET_KEY must be 32 bytes, as 64 hex characters or base64.');
  return key;
}

export function encryptSecret(plain: string, key: Buffer): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

export function decryptSecret(stored: string, key: Buffer): string {
  const raw = Buffer.from(stored, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
  decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
}
