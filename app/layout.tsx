import type { Metadata } from 'next';
import { Nav } from '@/components/layout/nav';
import { findViewer } from '@/lib/data/viewer';
import './globals.css';

// Every page depends on who is signed in.
export const dynamic = 'force-dynamic';

export const metadata: Metadata = {
  title: { default: 'Cutover', template: '%s · Cutover' },
  description: 'Database changes reach production safely: tracked workflows with real evidence.',
  icons: { icon: '/icon.svg' },
};

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  const viewer = await findViewer();
  return (
    <html lang="en">
      <body className="min-h-screen font-sans">
        <Nav viewer={viewer && { name: viewer.name, email: viewer.email, roles: viewer.roles, agentRoles: viewer.agentRoles, canAdmin: viewer.canAdmin, canOverview: viewer.canOverview, hasRole: viewer.hasRole }} />
        <main className="mx-auto max-w-7xl px-4 py-6">{children}</main>
      </body>
    </html>
  );
}
