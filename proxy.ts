import { withAuth } from 'next-auth/middleware';
import { NextResponse, type NextRequest, type NextFetchEvent } from 'next/server';

// A first, cheap gate for pages. Every action, service and read checks again on its own.
const auth = withAuth({ pages: { signIn: '/signin' } });

export function proxy(req: NextRequest, event: NextFetchEvent) {
  // MCP clients look for OAuth metadata here after a 401: Cutover has none (tokens come from an admin), said in JSON, not the sign-in page.
  if (req.nextUrl.pathname.startsWith('/.well-known/')) {
    return NextResponse.json({ error: { code: 'not_found', message: 'Cutover is not an OAuth server: use a bearer token an admin issued (Admin > Agents or Admin > API tokens).' } }, { status: 404 });
  }
  return (auth as unknown as (r: NextRequest, e: NextFetchEvent) => ReturnType<typeof auth>)(req, event);
}

export const config = {
  matcher: ['/((?!api|signin|_next/static|_next/image|icon.svg|favicon.ico).*)'],
};
