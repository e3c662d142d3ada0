import { expect, type BrowserContext } from '@playwright/test';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from './env';

export const admin = { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, name: 'Administrator' };

/**
 * Signs the context in through next-auth's credentials endpoint (what the sign-in form
 * does), so specs that are not about signing in skip the form.
 */
export async function signIn(context: BrowserContext, who: { email: string; password: string }): Promise<void> {
  const { csrfToken } = (await (await context.request.get('/api/auth/csrf')).json()) as { csrfToken: string };
  const res = await context.request.post('/api/auth/callback/credentials', {
    form: { csrfToken, email: who.email, password: who.password, json: 'true' },
  });
  expect(res.ok(), `sign-in as ${who.email} answered ${res.status()}`).toBe(true);
  const cookies = await context.cookies();
  expect(cookies.some((c) => c.name.endsWith('next-auth.session-token')), `no session cookie for ${who.email}`).toBe(true);
}
