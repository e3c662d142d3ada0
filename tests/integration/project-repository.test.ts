import { randomBytes, randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretKey } from '@/lib/db/settings';
import { encryptSecret } from '@/lib/engine';
import { commitMigration } from '@/lib/git/deploy-commit';
import { readFileAtRef, repositoryDir, repositoryUrlProblem, syncRepository, type RepositoryProject } from '@/lib/git/repository';
import { createAppRepository } from '../support/git-repo';

const SCHEMA_V1 = 'model User {\n  id Int @id\n}\n';
const SCHEMA_V2 = 'model User {\n  id    Int    @id\n  email String\n}\n';

let dataDir: string;
const savedDataDir = process.env.CUTOVER_DATA_DIR;

beforeAll(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'cutover-git-data-'));
  process.env.CUTOVER_DATA_DIR = dataDir;
  process.env.CUTOVER_SECRET_KEY ??= randomBytes(32).toString('hex');
});
afterAll(() => {
  if (savedDataDir === undefined) delete process.env.CUTOVER_DATA_DIR;
  else process.env.CUTOVER_DATA_DIR = savedDataDir;
  rmSync(dataDir, { recursive: true, force: true });
});

const project = (repositoryUrl: string, extra: Partial<RepositoryProject> = {}): RepositoryProject => ({
  id: randomUUID(), name: 'Shop app', repositoryUrl, repositoryUsername: null, repositoryCredentialEncrypted: null, ...extra,
});

describe('reading a project repository', () => {
  it('reads a file at a branch, follows new commits, and reads at a commit sha', async () => {
    const repo = createAppRepository({ 'prisma/schema.prisma': SCHEMA_V1, 'package.json': '{"version":"1.0.0"}' });
    try {
      const p = project(repo.origin);
      const first = await readFileAtRef(p, 'main', 'prisma/schema.prisma');
      expect(first).toMatchObject({ commit: repo.initial, content: SCHEMA_V1, path: 'prisma/schema.prisma', ref: 'main' });

      const onBranch = repo.commit('feature/email', { 'prisma/schema.prisma': SCHEMA_V2 }, 'add email');
      const second = await readFileAtRef(p, 'feature/email', 'prisma/schema.prisma');
      expect(second).toMatchObject({ commit: onBranch, content: SCHEMA_V2 });
      // main is untouched by the branch.
      expect((await readFileAtRef(p, 'main', 'prisma/schema.prisma')).content).toBe(SCHEMA_V1);
      // A commit on the branch after the first read is seen: every read fetches.
      const later = repo.commit('feature/email', { 'prisma/schema.prisma': SCHEMA_V2 + '\nmodel Post {\n  id Int @id\n}\n' });
      expect((await readFileAtRef(p, 'feature/email', 'prisma/schema.prisma')).commit).toBe(later);
      expect((await readFileAtRef(p, repo.initial, 'prisma/schema.prisma')).content).toBe(SCHEMA_V1);
      // The cache is a bare repository in the project's folder under the data dir.
      expect(repositoryDir(p.id).startsWith(path.join(dataDir, 'git'))).toBe(true);
      expect(readdirSync(repositoryDir(p.id))).toContain('HEAD');
    } finally {
      repo.remove();
    }
  });

  it('says which branch or file is missing', async () => {
    const repo = createAppRepository({ 'prisma/schema.prisma': SCHEMA_V1 });
    try {
      const p = project(repo.origin);
      await expect(readFileAtRef(p, 'no-such-branch', 'prisma/schema.prisma')).rejects.toMatchObject({
        code: 'not_found', message: expect.stringContaining('Branch "no-such-branch" was not found'),
      });
      await expect(readFileAtRef(p, 'main', 'app/schema.prisma')).rejects.toMatchObject({
        code: 'not_found', message: expect.stringContaining('app/schema.prisma was not found at branch "main"'),
      });
      await expect(readFileAtRef(p, 'main', '../etc/passwd')).rejects.toMatchObject({ code: 'invalid' });
      await expect(readFileAtRef(p, '--upload-pack=touch /tmp/x', 'prisma/schema.prisma')).rejects.toMatchObject({ code: 'invalid' });
      await expect(readFileAtRef(p, 'main..other', 'prisma/schema.prisma')).rejects.toMatchObject({ code: 'invalid' });
    } finally {
      repo.remove();
    }
  });

  it('refuses an unreachable repository with words, and URLs it does not accept', async () => {
    const missing = project(path.join(tmpdir(), `no-repo-${randomBytes(4).toString('hex')}`));
    await expect(syncRepository(missing)).rejects.toMatchObject({
      code: 'invalid', message: expect.stringContaining('Could not fetch the repository of project Shop app'),
    });
    expect(repositoryUrlProblem('ext::sh -c touch% /tmp/pwned')).toMatch(/not supported|Use an/);
    expect(repositoryUrlProblem('-uevil')).not.toBeNull();
    expect(repositoryUrlProblem('https://bob:secret@git.example.com/app.git')).toMatch(/password in the URL/);
    expect(repositoryUrlProblem('https://git.example.com/app.git')).toBeNull();
    expect(repositoryUrlProblem('git@github.com:acme/app.git')).toBeNull();
    expect(repositoryUrlProblem('/srv/git/app.git')).toBeNull();
    expect(repositoryUrlProblem('relative/path')).not.toBeNull();
    await expect(syncRepository(project('ext::sh -c touch% /tmp/pwned'))).rejects.toMatchObject({ code: 'invalid' });
  });
});

/**
 * A git smart-HTTP server on loopback (git http-backend as CGI) that wants Basic auth, and records
 * every request line it saw, so the test can say where the credential went and where it did not.
 */
async function startGitHttpServer(projectRoot: string, user: string, password: string) {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="app"' }).end('who are you?');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const child = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH, GIT_PROJECT_ROOT: projectRoot, GIT_HTTP_EXPORT_ALL: '1', PATH_INFO: url.pathname,
        QUERY_STRING: url.search.slice(1), REQUEST_METHOD: req.method, CONTENT_TYPE: req.headers['content-type'] ?? '',
        HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '', REMOTE_USER: user, REMOTE_ADDR: '127.0.0.1',
        HTTP_GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
      } as unknown as NodeJS.ProcessEnv,
    });
    req.pipe(child.stdin);
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('close', () => {
      const out = Buffer.concat(chunks);
      const split = out.indexOf('\r\n\r\n');
      const head = out.subarray(0, split).toString().split('\r\n');
      let status = 200;
      const headers: Record<string, string> = {};
      for (const h of head) {
        const [k, ...v] = h.split(':');
        if (k.toLowerCase() === 'status') status = Number(v.join(':').trim().split(' ')[0]);
        else headers[k] = v.join(':').trim();
      }
      res.writeHead(status, headers).end(out.subarray(split + 4));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('a repository that needs a credential', () => {
  it('fetches over HTTP with the encrypted credential through GIT_ASKPASS, and keeps it out of the URL, config and messages', async () => {
    const repo = createAppRepository({ 'prisma/schema.prisma': SCHEMA_V1 });
    const password = `tok-${randomBytes(12).toString('hex')}`;
    const server = await startGitHttpServer(path.dirname(repo.origin), 'ci-bot', password);
    try {
      const url = `http://127.0.0.1:${server.port}/${path.basename(repo.origin)}`;
      const p = project(url, { repositoryUsername: 'ci-bot', repositoryCredentialEncrypted: encryptSecret(password, secretKey()) });
      const file = await readFileAtRef(p, 'main', 'prisma/schema.prisma');
      expect(file).toMatchObject({ commit: repo.initial, content: SCHEMA_V1, repository: url });
      // git was asked for credentials (a 401 first) and then got in.
      expect(server.seen.length).toBeGreaterThan(1);
      // The credential is nowhere in the cache: not in its config, not in the askpass script.
      const config = readFileSync(path.join(repositoryDir(p.id), 'config'), 'utf8');
      expect(config).toContain(url);
      expect(config).not.toContain(password);
      expect(readFileSync(path.join(dataDir, 'git', 'askpass.sh'), 'utf8')).not.toContain(password);

      // A wrong credential is refused with words, and the words do not carry it.
      const wrong = `bad-${randomBytes(8).toString('hex')}`;
      const refused = await readFileAtRef({ ...p, repositoryCredentialEncrypted: encryptSecret(wrong, secretKey()) }, 'main', 'prisma/schema.prisma').catch((e: Error) => e);
      expect(refused).toMatchObject({ code: 'invalid', message: expect.stringContaining('Could not fetch the repository of project Shop app') });
      expect((refused as Error).message).not.toContain(wrong);
      // No credential at all: git must not hang on a prompt.
      const none = await readFileAtRef({ ...p, id: randomUUID(), repositoryCredentialEncrypted: null }, 'main', 'prisma/schema.prisma', { timeoutMs: 10_000 }).catch((e: Error) => e);
      expect(none).toMatchObject({ code: 'invalid' });
    } finally {
      await server.close();
      repo.remove();
    }
  });
});

describe('a repository host that redirects', () => {
  it('is not followed: the credential never goes to the address the redirect names', async () => {
    const repo = createAppRepository({ 'prisma/schema.prisma': SCHEMA_V1 });
    const password = `tok-${randomBytes(12).toString('hex')}`;
    // The listener the redirect points at (standing in for something internal): it would take the credential.
    const internal = await startGitHttpServer(path.dirname(repo.origin), 'ci-bot', password);
    const redirector = http.createServer((req, res) => {
      res.writeHead(302, { location: `http://127.0.0.1:${internal.port}${req.url}` }).end();
    });
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}/${path.basename(repo.origin)}`;
      const p = project(url, { repositoryUsername: 'ci-bot', repositoryCredentialEncrypted: encryptSecret(password, secretKey()) });
      const refused = await readFileAtRef(p, 'main', 'prisma/schema.prisma', { timeoutMs: 10_000 }).catch((e: Error) => e);
      expect(refused).toMatchObject({ code: 'invalid' });
      expect(internal.seen).toEqual([]);
    } finally {
      await new Promise((r) => redirector.close(r));
      await internal.close();
      repo.remove();
    }
  });
});

describe("git runs without the server user's config, never sends a credential in the clear, and redacts push errors", () => {
  it("ignores the server user's global config (url.insteadOf, credential helpers)", async () => {
    const repo = createAppRepository({ 'prisma/schema.prisma': SCHEMA_V1 });
    const home = mkdtempSync(path.join(tmpdir(), 'cutover-git-home-'));
    const savedHome = process.env.HOME;
    // A global config that would quietly send this project's fetches somewhere else.
    writeFileSync(path.join(home, '.gitconfig'), `[url "${repo.origin}"]\n\tinsteadOf = https://git.example.invalid/app.git\n`);
    process.env.HOME = home;
    try {
      const refused = await readFileAtRef(project('https://git.example.invalid/app.git'), 'main', 'prisma/schema.prisma', { timeoutMs: 20_000 }).catch((e: Error) => e);
      expect(refused).toMatchObject({ code: 'invalid', message: expect.stringContaining('Could not fetch the repository') });
    } finally {
      process.env.HOME = savedHome;
      rmSync(home, { recursive: true, force: true });
      repo.remove();
    }
  });

  it('refuses a credential over plain http:// or git:// (loopback aside) before git runs', async () => {
    const credential = encryptSecret('tok-secret', secretKey());
    for (const url of ['http://git.example.com/app.git', 'git://git.example.com/app.git']) {
      await expect(syncRepository(project(url, { repositoryCredentialEncrypted: credential }))).rejects.toMatchObject({ code: 'invalid', message: expect.stringMatching(/never sent over (http|git):\/\//) });
    }
  });

  it("leaves the team's own migration_lock.toml as it is", async () => {
    const lock = '# ours\nprovider = "postgresql"\n';
    const repo = createAppRepository({ 'package.json': '{ "version": "2.3.4" }\n', 'prisma/migrations/migration_lock.toml': lock });
    try {
      const done = await commitMigration({
        project: { ...project(repo.origin), deployBranch: 'main' }, folder: '20260101000000_add_email', migrationSql: 'ALTER TABLE users ADD COLUMN email text;\n', downSql: '',
        message: 'Add email', author: { name: 'Cutover', email: 'cutover@example.test' }, provider: 'postgresql',
      });
      expect(done).toMatchObject({ reused: false, version: '2.3.5' });
      expect((await readFileAtRef(project(repo.origin), 'main', 'prisma/migrations/migration_lock.toml')).content).toBe(lock);
    } finally {
      repo.remove();
    }
  });

  it('takes the credential out of a failed push, as out of every git message', async () => {
    const repo = createAppRepository({ 'package.json': '{ "version": "1.0.0" }\n' });
    const password = `tok-${randomBytes(12).toString('hex')}`;
    // A remote that echoes what it can see (here the credential in git's environment) and refuses the push.
    writeFileSync(path.join(repo.origin, 'hooks', 'pre-receive'), '#!/bin/sh\necho "token is $CUTOVER_GIT_PASSWORD" >&2\nexit 1\n');
    chmodSync(path.join(repo.origin, 'hooks', 'pre-receive'), 0o755);
    try {
      const p = { ...project(repo.origin, { repositoryUsername: 'ci-bot', repositoryCredentialEncrypted: encryptSecret(password, secretKey()) }), deployBranch: 'main' };
      const failed = await commitMigration({
        project: p, folder: '20260101000000_add_email', migrationSql: 'ALTER TABLE users ADD COLUMN email text;\n', downSql: '',
        message: 'Add email', author: { name: 'Cutover', email: 'cutover@example.test' }, provider: 'postgresql',
      }).catch((e: Error) => e);
      expect(failed).toMatchObject({ code: 'conflict', message: expect.stringContaining('The push to main') });
      expect((failed as Error).message).toContain('token is ***');
      expect((failed as Error).message).not.toContain(password);
    } finally {
      repo.remove();
    }
  });
});

describe('bounds and addresses of a fetch', () => {
  /** Sets environment variables for one test, put back afterwards. */
  async function withEnv<T>(vars: Record<string, string | undefined>, work: () => Promise<T>): Promise<T> {
    const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    for (const [k, v] of Object.entries(vars)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    try {
      return await work();
    } finally {
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    }
  }

  it('refuses a repository bigger than CUTOVER_GIT_MAX_MB once fetched, says so, and removes its copy', async () => {
    // Random bytes do not compress: about 300 KB of pack.
    const repo = createAppRepository({ 'prisma/schema.prisma': SCHEMA_V1, 'assets/blob.bin': randomBytes(300 * 1024).toString('base64') });
    try {
      const p = project(repo.origin);
      const refused = await withEnv({ CUTOVER_GIT_MAX_MB: '0.1' }, () => readFileAtRef(p, 'main', 'prisma/schema.prisma').catch((e: Error) => e));
      expect(refused).toMatchObject({ code: 'invalid', message: expect.stringMatching(/is 0\.[3-9] MB once fetched; Cutover fetches repositories of at most 0\.1 MB \(CUTOVER_GIT_MAX_MB\)\. Its copy was removed\./) });
      expect(readdirSync(path.dirname(repositoryDir(p.id)))).not.toContain(p.id);
      // Under the default limit it reads.
      expect((await readFileAtRef(p, 'main', 'prisma/schema.prisma')).content).toBe(SCHEMA_V1);
    } finally {
      repo.remove();
    }
  });

  it('stops a fetch that takes longer than CUTOVER_GIT_FETCH_TIMEOUT_MS, with words', async () => {
    // A server that takes the connection and answers slowly, byte by byte (so git's inactivity timeout never fires).
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-git-upload-pack-advertisement' });
      const drip = setInterval(() => res.write('0'), 100);
      res.on('close', () => clearInterval(drip));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const p = project(`http://127.0.0.1:${(server.address() as AddressInfo).port}/slow.git`);
      const started = Date.now();
      const refused = await withEnv({ CUTOVER_GIT_FETCH_TIMEOUT_MS: '1500' }, () => syncRepository(p).catch((e: Error) => e));
      expect(refused).toMatchObject({ code: 'invalid', message: expect.stringContaining('took longer than 2 s (CUTOVER_GIT_FETCH_TIMEOUT_MS) and was stopped') });
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('never sends a credential to loopback, link-local or the metadata address unless CUTOVER_ALLOW_PRIVATE_HEALTH_URLS=1', async () => {
    const credential = encryptSecret('tok-secret', secretKey());
    await withEnv({ CUTOVER_ALLOW_PRIVATE_HEALTH_URLS: undefined }, async () => {
      for (const url of ['http://127.0.0.1:1/app.git', 'https://localhost/app.git', 'https://169.254.169.254/app.git', 'https://[::1]/app.git']) {
        await expect(syncRepository(project(url, { repositoryCredentialEncrypted: credential }))).rejects.toMatchObject({
          code: 'invalid', message: expect.stringMatching(/repository URL, which carries a credential, points at .*(loopback|link-local|metadata)/),
        });
      }
      // Without a credential there is nothing to leak: a local repository still reads.
      const repo = createAppRepository({ 'prisma/schema.prisma': SCHEMA_V1 });
      try {
        expect((await readFileAtRef(project(repo.origin), 'main', 'prisma/schema.prisma')).content).toBe(SCHEMA_V1);
      } finally {
        repo.remove();
      }
    });
  });
});
