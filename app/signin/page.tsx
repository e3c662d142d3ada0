import { SignInForm } from '@/components/auth/sign-in-form';
import { safeCallbackPath, signInErrorMessage } from '@/lib/validation/sign-in';

export const metadata = { title: 'Sign in' };

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ callbackUrl?: string; error?: string }> }) {
  const { callbackUrl, error } = await searchParams;
  // Only same-site paths: never bounce a signed-in user to another host (`/\host` included).
  const next = safeCallbackPath(callbackUrl);
  return (
    <div className="mx-auto mt-16 max-w-sm">
      <h1 className="mb-1 text-2xl font-semibold">Sign in to Cutover</h1>
      <p className="mb-6 text-sm text-slate-600">Database changes, tracked from request to production.</p>
      <SignInForm callbackUrl={next} initialError={error ? signInErrorMessage(error) : null} />
    </div>
  );
}
