import { defineConfig, globalIgnores } from 'eslint/config';
import nextVitals from 'eslint-config-next/core-web-vitals';
import nextTs from 'eslint-config-next/typescript';

export default defineConfig([
  ...nextVitals,
  ...nextTs,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // The engine's one door (lib/engine/index.ts): callers import '@/lib/engine' or '../engine', never
  // an engine's modules by path, so a second engine is a second folder behind driverFor. Tests,
  // benches and e2e fixtures may reach inside.
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.mjs'],
    ignores: ['lib/engine/**', 'tests/**', 'bench/**', 'e2e/**', '**/*.test.ts', '**/*.test.tsx'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{
          regex: '(^|/)engine/.+',
          message: "Import the engine through its index ('@/lib/engine' or '../engine'), not its modules by path.",
        }],
      }],
    },
  },
  // CommonJS entry points (bin/) load with require by nature.
  { files: ['**/*.cjs'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  globalIgnores(['.next/**', 'lib/generated/**', 'next-env.d.ts', '.data/**', '.data-*/**', 'test-results/**', 'playwright-report/**']),
]);
