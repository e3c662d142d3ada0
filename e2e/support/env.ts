/**
 * The settings the e2e server runs with. The factories talk to the same store with the
 * same secret key, so both read them from here.
 */
export const E2E_PORT = 3100;
export const BASE_URL = `http://localhost:${E2E_PORT}`;

/** The test PostgreSQL server: the machine's, or the one `npm test` starts when there is none. */
export const PG_ADMIN_URL = process.env.CUTOVER_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const E2E_DATABASE = 'cutover_e2e';
/** start.ts names the demo database after the app store when CUTOVER_DEMO=1. */
export const E2E_DEMO_DATABASE = `${E2E_DATABASE}_demo`;
const storeUrl = new URL(PG_ADMIN_URL);
storeUrl.pathname = `/${E2E_DATABASE}`;
export const DATABASE_URL = storeUrl.toString();

export const ADMIN_EMAIL = 'admin@e2e.test';
export const ADMIN_PASSWORD = 'e2e-admin-password-0123';
/** Every person the factories make gets this password. */
export const USER_PASSWORD = 'e2e-user-password-4567';

// Fixed test-only secrets (never used outside this suite).
export const SECRET_KEY = 'e2e0'.repeat(16);
export const NEXTAUTH_SECRET = 'e2e-nextauth-secret-not-for-production';

export const DEMO_TARGET = 'Demo shop';

/** The environment of the server and of the factory process. */
export const serverEnv: Record<string, string> = {
  DATABASE_URL,
  CUTOVER_DEMO: '1',
  PORT: String(E2E_PORT),
  CUTOVER_DATA_DIR: '.data-e2e',
  CUTOVER_ADMIN_EMAIL: ADMIN_EMAIL,
  CUTOVER_ADMIN_PASSWORD: ADMIN_PASSWORD,
  CUTOVER_SECRET_KEY: SECRET_KEY,
  NEXTAUTH_SECRET,
  NEXTAUTH_URL: BASE_URL,
  // The e2e's application health checks and repositories are on loopback, refused by default (lib/health/outbound.ts).
  CUTOVER_ALLOW_PRIVATE_HEALTH_URLS: '1',
};
