'use client';

import { signIn } from 'next-auth/react';
import { useState } from 'react';
import { Button } from '@/components/ui/button';
import { Field, TextInput } from '@/components/ui/field';
import { safeCallbackPath, signInErrorMessage } from '@/lib/validation/sign-in';

export function SignInForm({ callbackUrl, initialError }: { callbackUrl: string; initialError?: string | null }) {
  const [error, setError] = useState<string | null>(initialError ?? null);
  const [pending, setPending] = useState(false);

  async function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setPending(true);
    setError(null);
    const form = new FormData(e.currentTarget);
    const res = await signIn('credentials', {
      email: String(form.get('email') ?? ''),
      password: String(form.get('password') ?? ''),
      redirect: false,
    });
    setPending(false);
    if (!res || res.error) {
      setError(signInErrorMessage(res?.error));
      return;
    }
    // Checked again here, not only by the page: a path that leaves this site is never followed.
    window.location.assign(safeCallbackPath(callbackUrl));
  }

  return (
    <form onSubmit={onSubmit} className="space-y-4 rounded-lg border border-slate-200 bg-white p-5 shadow-sm" noValidate>
      <Field name="email" label="Email">
        {(p) => <TextInput {...p} name="email" type="email" autoComplete="username" required />}
      </Field>
      <Field name="password" label="Password">
        {(p) => <TextInput {...p} name="password" type="password" autoComplete="current-password" required />}
      </Field>
      <div aria-live="polite">{error && <p className="text-sm text-red-700">{error}</p>}</div>
      <Button type="submit" disabled={pending} className="w-full">
        {pending ? 'Signing in…' : 'Sign in'}
      </Button>
    </form>
  );
}
