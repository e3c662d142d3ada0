import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client';

export type Db = PrismaClient;
export type Tx = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

const globalForPrisma = globalThis as unknown as { cutoverPrisma?: PrismaClient };

/** The app store's Prisma client, created on first use (so builds need no DATABASE_URL). */
export function getDb(): PrismaClient {
  if (!globalForPrisma.cutoverPrisma) {
    const connectionString = process.env.DATABASE_URL;
    if (!connectionString) throw new Error('DATABASE_URL is not set; start Cutover with `npm start`.');
    const max = Number(process.env.CUTOVER_DB_POOL_SIZE ?? 10);
    globalForPrisma.cutoverPrisma = new PrismaClient({ adapter: new PrismaPg({ connectionString, max }) });
  }
  return globalForPrisma.cutoverPrisma;
}

export async function disconnectDb(): Promise<void> {
  await globalForPrisma.cutoverPrisma?.$disconnect();
  globalForPrisma.cutoverPrisma = undefined;
}
