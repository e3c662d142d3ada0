import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = path.dirname(fileURLToPath(import.meta.url));

const alias = {
  '@': root,
  // `server-only` throws outside React Server Components; tests are server code already.
  'server-only': path.join(root, 'tests/support/empty-module.ts'),
};

// The tests' applications, health checks and repositories live on loopback, which Cutover refuses
// by default (lib/health/outbound.ts); the tests that check the refusal unset it themselves.
const env = { CUTOVER_ALLOW_PRIVATE_HEALTH_URLS: '1' };

export default defineConfig({
  test: {
    projects: [
      {
        resolve: { alias },
        test: { name: 'unit', include: ['lib/**/*.test.ts'], environment: 'node', env },
      },
      {
        resolve: { alias },
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          environment: 'node',
          env,
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
