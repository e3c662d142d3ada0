import type { NextAuthOptions } from 'next-auth';
import CredentialsProvider from 'next-auth/providers/credentials';
import { sameOriginRedirect } from '../validation/sign-in';
import { authorizeCredentials } from './authorize';
import { forgetInitialAdminPassword } from '../db/initial-admin-password';

export const authOptions: NextAuthOptions = {
  session: { strategy: 'jwt', maxAge: 12 * 60 * 60 },
  pages: { signIn: '/signin' },
  providers: [
    CredentialsProvider({
      name: 'Email and password',
      credentials: { email: { label: 'Email', type: 'email' }, password: { label: 'Password', type: 'password' } },
      // Rate limited per account and per address; unknown emails cost what wrong passwords cost.
      async authorize(credentials, req) {
        const user = await authorizeCredentials(credentials, req?.headers);
        if (!user) return null;
        forgetInitialAdminPassword(credentials?.password); // the first admin is in: the printed password's file goes
        return user;
      },
    }),
  ],
  callbacks: {
    // Only same-origin URLs after sign-in or sign-out, by the same rule as the sign-in form's callbackUrl.
    redirect({ url, baseUrl }) {
      return sameOriginRedirect(url, baseUrl);
    },
    jwt({ token, user }) {
      if (user) token.sub = user.id;
      return token;
    },
    session({ session, token }) {
      if (session.user) (session.user as { id?: string }).id = token.sub;
      return session;
    },
  },
};
