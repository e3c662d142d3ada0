'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { signOut } from 'next-auth/react';

interface NavProps {
  viewer: { name: string; email: string; roles: readonly string[]; agentRoles: readonly string[]; canAdmin: boolean; canOverview: boolean; hasRole: boolean } | null;
}

export function Nav({ viewer }: NavProps) {
  const path = usePathname();
  if (!viewer) return null;
  // Only what the viewer can open: without a role, Requests, My tasks and Migrations all lead to /no-role.
  const links = [
    ...(viewer.hasRole ? [{ href: '/requests', label: 'Requests' }, { href: '/tasks', label: 'My tasks' }, { href: '/migrations', label: 'Migrations' }] : []),
    ...(viewer.canOverview ? [{ href: '/overview', label: 'Overview' }] : []),
    ...(viewer.canAdmin ? [{ href: '/admin/targets', label: 'Targets' }, { href: '/admin/projects', label: 'Projects' }, { href: '/admin/users', label: 'People' }, { href: '/admin/tokens', label: 'API tokens' }, { href: '/admin/agents', label: 'Agents' }, { href: '/admin/settings', label: 'Settings' }] : []),
  ];
  return (
    <header className="border-b border-slate-200 bg-white">
      <nav className="mx-auto flex max-w-7xl items-center gap-6 px-4 py-2.5" aria-label="Main">
        <Link href={viewer.hasRole ? '/requests' : '/no-role'} className="flex items-center gap-2 font-semibold text-indigo-800">
          {/* eslint-disable-next-line @next/next/no-img-element */}
          <img src="/icon.svg" alt="" width={22} height={22} /> Cutover
        </Link>
        <ul className="flex gap-1 text-sm">
          {links.map((l) => (
            <li key={l.href}>
              <Link
                href={l.href}
                aria-current={path.startsWith(l.href) ? 'page' : undefined}
                className="rounded-md px-2.5 py-1.5 text-slate-700 hover:bg-slate-100 aria-[current=page]:bg-indigo-50 aria-[current=page]:text-indigo-800"
              >
                {l.label}
              </Link>
            </li>
          ))}
        </ul>
        <div className="ml-auto flex items-center gap-3 text-sm">
          <span className="text-slate-700" data-testid="viewer-name" title={[...viewer.roles, ...viewer.agentRoles].join(', ')}>
            {viewer.name}
          </span>
          <button className="text-slate-500 hover:text-slate-800" onClick={() => signOut({ callbackUrl: '/signin' })}>
            Sign out
          </button>
        </div>
      </nav>
    </header>
  );
}
