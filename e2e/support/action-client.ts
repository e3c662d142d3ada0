/**
 * Calls server actions and API routes directly over HTTP, the way an attacker (or a script)
 * would: no browser, no UI, only a session cookie. Server actions are found by their exported
 * name in the production build's manifest and posted with the `Next-Action` header, their
 * arguments encoded by React's own `encodeReply` (what the browser runtime sends).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { APIRequestContext, APIResponse } from '@playwright/test';
import { expect } from '@playwright/test';
import { BASE_URL } from './env';

const root = path.resolve(__dirname, '../..');
// React's reply encoder for the Node runtime, as shipped inside Next.
const { encodeReply } = createRequire(path.join(root, 'package.json'))(
  'next/dist/compiled/react-server-dom-webpack/client.node.js',
) as { encodeReply: (value: unknown) => Promise<string | FormData> };

export interface ManifestAction {
  id: string;
  file: string;
  name: string;
  /** A page path that hosts the action (dynamic segments still as `[id]`). */
  page: string;
}

/** Every server action of the build: .next/server/server-reference-manifest.json, keyed by exported name. */
export function loadActionManifest(): Map<string, ManifestAction> {
  const raw = JSON.parse(readFileSync(path.join(root, '.next/server/server-reference-manifest.json'), 'utf8')) as {
    node: Record<string, { filename: string; exportedName: string; workers: Record<string, unknown> }>;
  };
  const out = new Map<string, ManifestAction>();
  for (const [id, entry] of Object.entries(raw.node)) {
    const worker = Object.keys(entry.workers).sort((a, b) => a.split('[').length - b.split('[').length)[0] ?? 'app/page';
    const page = worker.replace(/^app/, '').replace(/\/page$/, '') || '/';
    out.set(entry.exportedName, { id, file: entry.filename, name: entry.exportedName, page });
  }
  return out;
}

/** What came back from one direct call, action or route alike. */
export interface CallResult {
  status: number;
  /** The action's return value or the route's JSON body (null when neither could be read). */
  body: unknown;
  /** Raw response text (for scans and messages). */
  text: string;
  /** `x-action-redirect` of an action that redirected (a success for form actions). */
  redirect: string | null;
  headers: Record<string, string>;
}

/** `{ok, code}` of an action result, or of a route answer mapped the same way. */
export function outcomeOf(r: CallResult): { ok: boolean; code: string } {
  const body = r.body as { ok?: boolean; code?: string; error?: { code?: string } } | null;
  // The proxy sends a visitor without a session to the sign-in page before any page or action runs.
  if (r.status >= 300 && r.status < 400 && /\/signin/.test(r.headers.location ?? '')) return { ok: false, code: 'unauthenticated' };
  if (r.redirect) return { ok: true, code: 'redirect' };
  if (body && typeof body === 'object' && 'ok' in body) return { ok: !!body.ok, code: body.ok ? 'ok' : String(body.code) };
  if (r.status >= 200 && r.status < 300) return { ok: true, code: 'ok' };
  return { ok: false, code: body?.error?.code ?? `http_${r.status}` };
}

/**
 * Decodes a React Flight response just enough to read an action's return value: rows
 * `<hex id>:<json>\n`, text rows `<hex id>:T<hex length>,<text>`, and `$`-references between them.
 */
export function decodeFlight(buf: Buffer): { root: unknown; errors: unknown[] } {
  const rows = new Map<number, string>();
  const errors: unknown[] = [];
  let i = 0;
  while (i < buf.length) {
    const colon = buf.indexOf(0x3a, i);
    if (colon < 0) break;
    const id = parseInt(buf.subarray(i, colon).toString('latin1'), 16);
    const tag = String.fromCharCode(buf[colon + 1]);
    const lengthPrefixed = /^[TABOoUSsLlGgMmV][0-9a-f]+,/.test(buf.subarray(colon + 1, colon + 20).toString('latin1'));
    if (lengthPrefixed) {
      const comma = buf.indexOf(0x2c, colon);
      const len = parseInt(buf.subarray(colon + 2, comma).toString('latin1'), 16);
      rows.set(id, JSON.stringify(buf.subarray(comma + 1, comma + 1 + len).toString('utf8')));
      i = comma + 1 + len;
      continue;
    }
    const nl = buf.indexOf(0x0a, colon);
    const end = nl < 0 ? buf.length : nl;
    const data = buf.subarray(colon + 1, end).toString('utf8');
    if (tag === 'E') errors.push(safeJson(data.slice(1)));
    else if (/^[A-Z]/.test(tag)) {
      /* module, hint, debug rows: not data */
    } else rows.set(id, data);
    i = end + 1;
  }
  const cache = new Map<number, unknown>();
  const resolveRow = (id: number, depth: number): unknown => {
    if (cache.has(id)) return cache.get(id);
    const text = rows.get(id);
    const value = text === undefined ? undefined : revive(safeJson(text), depth + 1);
    cache.set(id, value);
    return value;
  };
  const revive = (v: unknown, depth: number): unknown => {
    if (depth > 50) return v;
    if (typeof v === 'string' && v.startsWith('$')) {
      if (v.startsWith('$$')) return v.slice(1);
      if (v === '$undefined') return undefined;
      if (v.startsWith('$D')) return v.slice(2);
      if (v.startsWith('$n')) return v.slice(2);
      const ref = /^\$@?([0-9a-f]+)$/.exec(v);
      if (ref) return resolveRow(parseInt(ref[1], 16), depth);
      return v;
    }
    if (Array.isArray(v)) return v.map((x) => revive(x, depth + 1));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, revive(x, depth + 1)]));
    return v;
  };
  return { root: resolveRow(0, 0), errors };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The arguments of a form action `(prevState, formData)` from a plain object: arrays repeat the key. */
export function formArgs(fields: Record<string, unknown>): unknown[] {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v === undefined) continue;
      form.append(key, v instanceof Blob ? v : typeof v === 'string' ? v : JSON.stringify(v));
    }
  }
  return [undefined, form];
}

/** Posts a server action by id, with `args` encoded as the browser would. */
export async function callAction(
  api: APIRequestContext,
  action: ManifestAction,
  args: unknown[],
  opts: { page?: string } = {},
): Promise<CallResult> {
  const encoded = await encodeReply(args);
  const page = opts.page ?? action.page;
  const headers: Record<string, string> = { 'next-action': action.id, accept: 'text/x-component', origin: BASE_URL };
  let res: APIResponse;
  if (typeof encoded === 'string') {
    res = await api.post(page, { headers: { ...headers, 'content-type': 'text/plain;charset=UTF-8' }, data: encoded, maxRedirects: 0 });
  } else {
    res = await api.post(page, { headers, multipart: encoded, maxRedirects: 0 });
  }
  const buf = await res.body();
  const hdrs = res.headers();
  const isFlight = (hdrs['content-type'] ?? '').includes('text/x-component');
  const decoded = isFlight ? decodeFlight(buf) : { root: null, errors: [] };
  const rootObj = decoded.root as { a?: unknown } | null;
  return {
    status: res.status(),
    body: rootObj && typeof rootObj === 'object' && 'a' in rootObj ? rootObj.a : null,
    text: buf.toString('utf8'),
    redirect: hdrs['x-action-redirect'] ?? null,
    headers: hdrs,
  };
}

/** Calls an API route as a JSON client with a cookie session (same origin, JSON body). */
export async function callRoute(
  api: APIRequestContext,
  method: string,
  url: string,
  body?: unknown,
  extraHeaders: Record<string, string> = {},
): Promise<CallResult> {
  const headers: Record<string, string> = { origin: BASE_URL, accept: 'application/json', ...extraHeaders };
  const init: Parameters<APIRequestContext['fetch']>[1] = { method, headers, maxRedirects: 0 };
  if (body !== undefined) {
    headers['content-type'] ??= 'application/json';
    // BigInts go out as bare digits: JSON has no limit on a number's size, a crafted body may hold any.
    init.data = typeof body === 'string' || Buffer.isBuffer(body)
      ? body
      : JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? `__big${v}__` : v)).replace(/"__big(-?\d+)__"/g, '$1');
  }
  const res = await api.fetch(url, init);
  const buf = await res.body();
  const hdrs = res.headers();
  return {
    status: res.status(),
    body: (hdrs['content-type'] ?? '').includes('json') ? safeJson(buf.toString('utf8')) : null,
    text: (hdrs['content-type'] ?? '').includes('gzip') ? `<${buf.length} bytes of gzip>` : buf.toString('utf8'),
    redirect: null,
    headers: hdrs,
  };
}

/** Signs an API context in through next-auth's credentials endpoint; its cookie jar keeps the session. */
export async function signInApi(api: APIRequestContext, who: { email: string; password: string }): Promise<void> {
  const { csrfToken } = (await (await api.get('/api/auth/csrf')).json()) as { csrfToken: string };
  const res = await api.post('/api/auth/callback/credentials', {
    form: { csrfToken, email: who.email, password: who.password, json: 'true' },
  });
  expect(res.ok(), `sign-in as ${who.email} answered ${res.status()}`).toBe(true);
  const state = await api.storageState();
  expect(state.cookies.some((c) => c.name.endsWith('next-auth.session-token')), `no session cookie for ${who.email}`).toBe(true);
}
