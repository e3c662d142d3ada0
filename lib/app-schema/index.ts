/**
 * The application's schema.prisma against the schema a rehearsal produced: parse (prisma-schema.ts)
 * and compare (compare.ts). Pure: no I/O, usable from services, the worker and tests.
 */
export * from './prisma-schema';
export * from './compare';
