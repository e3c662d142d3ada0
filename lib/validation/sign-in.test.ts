import { describe, expect, it } from 'vitest';
import { safeCallbackPath, sameOriginRedirect, signInErrorMessage } from './sign-in';

describe('callbackUrl after sign-in: same-origin paths only', () => {
  const escapes = ['/\\evil.example', '//evil.example', 'https://evil.example', '/%5Cevil.example', '/%5cevil.example', 'javascript:alert(1)',
    '/%2F%2Fevil.example', '/\tevil', '\\\\evil.example', 'evil.example', '', '/%E0%A4%A'];

  it.each(escapes)('refuses %j', (raw) => {
    expect(safeCallbackPath(raw)).toBe('/requests');
    expect(sameOriginRedirect(raw, 'http://localhost:3100')).toBe('http://localhost:3100');
  });

  it('keeps paths on the site, with their query and fragment', () => {
    expect(safeCallbackPath('/requests/12?tab=sql#step-3')).toBe('/requests/12?tab=sql#step-3');
    expect(safeCallbackPath('/tasks')).toBe('/tasks');
    expect(sameOriginRedirect('/requests/12', 'http://localhost:3100')).toBe('http://localhost:3100/requests/12');
    expect(sameOriginRedirect('http://localhost:3100/tasks?x=1', 'http://localhost:3100')).toBe('http://localhost:3100/tasks?x=1');
    expect(sameOriginRedirect('http://localhost:3100.evil.example/', 'http://localhost:3100')).toBe('http://localhost:3100');
  });
});

describe('sign-in error messages', () => {
  it('shows the limit as it is, and one message for every other failure', () => {
    expect(signInErrorMessage('Too many attempts; try again in 14 minutes.')).toBe('Too many attempts; try again in 14 minutes.');
    expect(signInErrorMessage('CredentialsSignin')).toBe('Email or password is wrong, or the account is inactive.');
    expect(signInErrorMessage('<script>alert(1)</script>')).toBe('Email or password is wrong, or the account is inactive.');
  });
});
