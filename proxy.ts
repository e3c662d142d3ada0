import { withAuth } from 'next-auth/middleware';
import type { NextRequest, NextFetchEvent } from 'next/server';

// A first, cheap gate for pages. Every action, service and read checks again on its own.
const auth = withAuth({ pages: { signIn: '/signin' } });

export function proxy(req: NextRequest, event: NextFetchEvent) {
  return (auth as unknown as (r: NextRequest, e: NextFetchEvent) => ReturnType<typeof auth>)(req, event);
}

export const config = {
  matcher: ['/((?!api|signin|_next/static|_next/image|icon.svg|favicon.ico).*)'],
};
