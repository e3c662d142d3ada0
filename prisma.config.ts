import { defineConfig } from 'prisma/config';

// Only `prisma generate` runs here (see DESIGN.md); migrations are applied by lib/engine.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
});
