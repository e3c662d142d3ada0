import type { MigrationRequestWhereInput } from '../generated/prisma/models';

export type Where = MigrationRequestWhereInput;
