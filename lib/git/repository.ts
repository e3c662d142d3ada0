// No 'server-only' here: the worker (tsx scripts/worker.ts, npm start) imports this outside Next, where it throws.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import { secretKey } from '../db/settings';
import { DomainError } from '../domain/errors';
import { decryptSecret } from '../engine';
import type { Project } from '../generated/prisma/client';
import { repositoryAddressProblem } from '../health/outbound';
import { branchNameProblem, credentialTransportProblem, repositoryPathProblem, repositoryUrlProblem } from '../validation/project';

export { branchNameProblem, repositoryUrlProblem };

/**
 * The read side of a project's application repository: a bare cache under
 * `<CUTOVER_DATA_DIR or .data>/git/<projectId>`, cloned on first use and fetched before each read,
 * through Debian's `git` driven by simple-git. Credentials (HTTPS user + password or token) reach git
 * only through GIT_ASKPASS and the git child's environment: never in the URL, the cache's config,
 * argv or a message. The deploy side (lib/git/deploy-commit.ts) uses the same `syncRepository`
 * handle to build its commit and push `origin`.
 */

export type RepositoryProject = Pick<Project, 'id' | 'name' | 'repositoryUrl' | 'repositoryUsername' | 'repositoryCredentialEncrypted'>;

export interface RepositoryOptions {
  signal?: AbortSignal;
  /** Kill git when it prints nothing for this long (a hung server, a prompt nobody answers). */
  timeoutMs?: number;
}

export interface SyncedRepository {
  /** The bare cache (git dir). */
  dir: string;
  /** git in `dir`, with the project's credentials wired through GIT_ASKPASS for fetch and push. */
  git: SimpleGit;
  /** The repository in words, for messages (the URL as the admin typed it; it holds no password). */
  label: string;
}

export interface FileAtRef {
  repository: string;
  ref: string;
  commit: string;
  path: string;
  content: string;
}

const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * Bounds of one clone or fetch, read per call: at most CUTOVER_GIT_FETCH_TIMEOUT_MS in all (default
 * 5 min; the inactivity timeout above only catches a server that says nothing), and a repository
 * whose objects take more than CUTOVER_GIT_MAX_MB (default 200 MB) is refused and its cache removed:
 * Cutover reads one schema file and writes one folder, and an unbounded fetch fills the disk.
 */
export function fetchLimits(): { timeoutMs: number; maxBytes: number } {
  const timeoutMs = Number(process.env.CUTOVER_GIT_FETCH_TIMEOUT_MS ?? 300_000);
  const maxMb = Number(process.env.CUTOVER_GIT_MAX_MB ?? 200);
  return {
    timeoutMs: Number.isFinite(timeoutMs) && timeoutMs > 0 ? timeoutMs : 300_000,
    maxBytes: (Number.isFinite(maxMb) && maxMb > 0 ? maxMb : 200) * 1024 * 1024,
  };
}

const megabytes = (bytes: number) => Number((bytes / 1024 / 1024).toFixed(1));

/** What the bare cache's objects take on disk (packs and loose objects), from `git count-objects -v`. */
async function objectBytes(git: SimpleGit): Promise<number> {
  const out = await git.raw(['count-objects', '-v']);
  const kib = (key: string) => Number(new RegExp(`^${key}: (\\d+)$`, 'm').exec(out)?.[1] ?? 0);
  return (kib('size') + kib('size-pack') + kib('size-garbage')) * 1024;
}
/** schema.prisma files are small; a bigger blob is not what we are looking for. */
const MAX_FILE_BYTES = 5 * 1024 * 1024;

/** `<CUTOVER_DATA_DIR or .data>/git`. */
export function repositoriesRoot(): string {
  return path.resolve(/*turbopackIgnore: true*/ process.env.CUTOVER_DATA_DIR ?? '.data', 'git');
}

/** The project's bare cache. Project ids are UUIDs; anything else is refused rather than joined into a path. */
export function repositoryDir(projectId: string): string {
  if (!/^[0-9a-f-]{36}$/i.test(projectId)) throw new Error(`Not a project id: ${JSON.stringify(projectId)}`);
  return path.join(repositoriesRoot(), projectId);
}

/** Git transports allowed for every call (also guards a URL that somehow escaped validation). */
const ALLOWED_PROTOCOLS = 'https:http:ssh:git:file';

async function askPassScript(): Promise<string> {
  const file = path.join(repositoriesRoot(), 'askpass.sh');
  // Answers git's prompts from the git child's own environment; the secret is never written to disk.
  const body = '#!/bin/sh\ncase "$1" in\n  Username*) printf \'%s\\n\' "$CUTOVER_GIT_USERNAME" ;;\n  *) printf \'%s\\n\' "$CUTOVER_GIT_PASSWORD" ;;\nesac\n';
  const existing = await stat(file).catch(() => null);
  if (!existing || existing.size !== Buffer.byteLength(body)) {
    await mkdir(repositoriesRoot(), { recursive: true });
    const tmp = `${file}.${randomBytes(4).toString('hex')}`;
    await writeFile(tmp, body, { mode: 0o700 });
    await chmod(tmp, 0o700);
    await rename(tmp, file);
  }
  return file;
}

/** The decrypted credential, for the git child's environment only. */
function credentialOf(project: RepositoryProject): string | null {
  return project.repositoryCredentialEncrypted ? decryptSecret(project.repositoryCredentialEncrypted, secretKey()) : null;
}

/**
 * A small, explicit environment for git: no inherited EDITOR/PAGER/GIT_* (simple-git refuses some,
 * and they have no business here), no prompts on a terminal, only the transports we allow, and no
 * system or global git config: the server user's credential helpers and url.insteadOf rewrites
 * must never apply to a project's repository.
 */
async function gitEnvironment(project: RepositoryProject): Promise<Record<string, string>> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    LANG: 'C',
    LC_ALL: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ALLOW_PROTOCOL: ALLOWED_PROTOCOLS,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    // A redirect would take the credential to an address the outbound check never saw (a listener on
    // this machine): git fetches from the URL the project names, or fails.
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.followRedirects',
    GIT_CONFIG_VALUE_0: 'false',
  };
  if (process.env.SSH_AUTH_SOCK) env.SSH_AUTH_SOCK = process.env.SSH_AUTH_SOCK;
  const credential = credentialOf(project);
  env.GIT_ASKPASS = await askPassScript();
  env.CUTOVER_GIT_USERNAME = project.repositoryUsername ?? '';
  env.CUTOVER_GIT_PASSWORD = credential ?? '';
  return env;
}

/** git's text with anything that could be the credential taken out (the stored one, a password in a URL). */
export function redactGitText(text: string, project: RepositoryProject): string {
  let message = text;
  const credential = project.repositoryCredentialEncrypted ? credentialOf(project) : null;
  if (credential) message = message.split(credential).join('***');
  return message.replace(/(\/\/[^/@\s:]+):[^@\s/]+@/g, '$1:***@');
}

/** git's message, with anything that could be the credential taken out, cut to a readable length. */
function gitMessage(err: unknown, project: RepositoryProject): string {
  const message = redactGitText((err instanceof Error ? err.message : String(err)).trim(), project);
  const lines = message.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.slice(-3).join(' ').slice(0, 400) || 'git failed without a message';
}

function gitIn(dir: string, env: Record<string, string>, options: RepositoryOptions): SimpleGit {
  return simpleGit({
    baseDir: dir,
    binary: 'git',
    maxConcurrentProcesses: 2,
    timeout: { block: options.timeoutMs ?? DEFAULT_TIMEOUT_MS },
    abort: options.signal,
    // GIT_ASKPASS is ours (the script above), GIT_CONFIG_GLOBAL is /dev/null, GIT_CONFIG_COUNT sets
    // http.followRedirects=false (gitEnvironment): simple-git asks us to say so.
    unsafe: { allowUnsafeAskPass: true, allowUnsafeConfigPaths: true, allowUnsafeConfigEnvCount: true },
  }).env(env);
}

// One sync per project at a time in this process; other processes (the worker) are covered by
// cloning into a temporary folder and renaming, and by retrying a fetch that lost a ref lock.
const syncing = new Map<string, Promise<unknown>>();

async function exclusive<T>(key: string, work: () => Promise<T>): Promise<T> {
  const before = syncing.get(key) ?? Promise.resolve();
  const mine = before.catch(() => undefined).then(work);
  syncing.set(key, mine);
  try {
    return await mine;
  } finally {
    if (syncing.get(key) === mine) syncing.delete(key);
  }
}

const FETCH_REFSPEC = '+refs/heads/*:refs/remotes/origin/*';

/**
 * Brings the project's bare cache up to date with its repository (clone on first use, then fetch
 * with prune) and returns git in it. Refusals say what to fix: an unreachable repository, refused
 * credentials, a URL Cutover does not accept.
 */
export async function syncRepository(project: RepositoryProject, options: RepositoryOptions = {}): Promise<SyncedRepository> {
  const hasCredential = project.repositoryCredentialEncrypted !== null;
  const problem = repositoryUrlProblem(project.repositoryUrl) ?? credentialTransportProblem(project.repositoryUrl, hasCredential)
    ?? (await repositoryAddressProblem(project.repositoryUrl, hasCredential));
  if (problem) throw new DomainError('invalid', `Project ${project.name}: ${problem}`);
  const url = project.repositoryUrl.trim();
  const dir = repositoryDir(project.id);
  const env = await gitEnvironment(project);
  const limits = fetchLimits();
  return exclusive(project.id, async () => {
    // The clone or fetch as a whole is bounded in time; the handle returned keeps the caller's own signal.
    const deadline = AbortSignal.timeout(limits.timeoutMs);
    const fetching = { ...options, signal: options.signal ? AbortSignal.any([options.signal, deadline]) : deadline };
    try {
      if (!(await stat(path.join(dir, 'HEAD')).catch(() => null))) {
        const tmp = `${dir}.init-${randomBytes(4).toString('hex')}`;
        await mkdir(tmp, { recursive: true });
        try {
          const git = gitIn(tmp, env, fetching);
          await git.init(true);
          await git.addRemote('origin', url);
          await git.raw(['config', 'remote.origin.fetch', FETCH_REFSPEC]);
          await rename(tmp, dir).catch(async (err) => {
            // Another process created it meanwhile: use theirs.
            if (!(await stat(path.join(dir, 'HEAD')).catch(() => null))) throw err;
          });
        } finally {
          await rm(tmp, { recursive: true, force: true });
        }
      }
      const fetcher = gitIn(dir, env, fetching);
      // The admin may have changed the URL since the last fetch.
      await fetcher.raw(['remote', 'set-url', 'origin', url]);
      await fetcher.raw(['fetch', '--prune', '--no-tags', 'origin']).catch(async (err) => {
        if (!/lock/i.test(String(err))) throw err;
        await new Promise((resolve) => setTimeout(resolve, 250));
        await fetcher.raw(['fetch', '--prune', '--no-tags', 'origin']);
      });
      const bytes = await objectBytes(fetcher);
      if (bytes > limits.maxBytes) {
        await rm(dir, { recursive: true, force: true });
        throw new DomainError(
          'invalid',
          `The repository of project ${project.name} (${url}) is ${megabytes(bytes)} MB once fetched; Cutover fetches repositories of at most ${megabytes(limits.maxBytes)} MB (CUTOVER_GIT_MAX_MB). Its copy was removed.`,
        );
      }
      return { dir, git: gitIn(dir, env, options), label: url };
    } catch (err) {
      if (err instanceof DomainError) throw err;
      if (options.signal?.aborted) throw new DomainError('conflict', `Reading the repository of project ${project.name} was cancelled.`);
      if (deadline.aborted) {
        throw new DomainError('invalid', `Fetching the repository of project ${project.name} (${url}) took longer than ${Math.round(limits.timeoutMs / 1000)} s (CUTOVER_GIT_FETCH_TIMEOUT_MS) and was stopped.`);
      }
      throw new DomainError(
        'invalid',
        `Could not fetch the repository of project ${project.name} (${url}): ${gitMessage(err, project)}. Check the URL and the credential in the project's settings.`,
      );
    }
  });
}

/** The commit a branch of the synced repository points at, or null when there is no such branch. */
export async function branchCommit(repo: SyncedRepository, branch: string): Promise<string | null> {
  if (branchNameProblem(branch)) return null;
  try {
    return (await repo.git.raw(['rev-parse', '--verify', '--quiet', `refs/remotes/origin/${branch.trim()}^{commit}`])).trim() || null;
  } catch {
    return null;
  }
}

/**
 * A file's content at a branch (or a full commit sha) of the project's repository, after a fetch,
 * with the commit it was read at. Refusals name what is missing: the branch, or the file on it.
 */
export async function readFileAtRef(project: RepositoryProject, ref: string, filePath: string, options: RepositoryOptions = {}): Promise<FileAtRef> {
  const pathProblem = repositoryPathProblem(filePath);
  if (pathProblem) throw new DomainError('invalid', `${pathProblem} (got "${filePath}")`);
  const isSha = /^[0-9a-f]{40}$/i.test(ref.trim());
  if (!isSha) {
    const refProblem = branchNameProblem(ref);
    if (refProblem) throw new DomainError('invalid', refProblem);
  }
  const repo = await syncRepository(project, options);
  const name = ref.trim();
  const cleanPath = filePath.trim();
  let commit: string | null;
  if (isSha) {
    commit = await repo.git.raw(['rev-parse', '--verify', '--quiet', `${name}^{commit}`]).then((s) => s.trim() || null, () => null);
  } else {
    commit = await branchCommit(repo, name);
  }
  if (!commit) {
    throw new DomainError('not_found', isSha
      ? `Commit ${name} is not in the repository of project ${project.name}.`
      : `Branch "${name}" was not found in the repository of project ${project.name} (${repo.label}). Push it, or correct the branch on the request.`);
  }
  const object = `${commit}:${cleanPath}`;
  const type = await repo.git.raw(['cat-file', '-t', object]).then((s) => s.trim(), () => null);
  if (type !== 'blob') {
    throw new DomainError('not_found', `${cleanPath} was not found at ${isSha ? name.slice(0, 12) : `branch "${name}"`} (commit ${commit.slice(0, 12)}) of project ${project.name}'s repository. Check the project's schema path.`);
  }
  const size = Number((await repo.git.raw(['cat-file', '-s', object])).trim());
  if (size > MAX_FILE_BYTES) throw new DomainError('invalid', `${cleanPath} at commit ${commit.slice(0, 12)} is ${size} bytes; Cutover reads files of at most ${MAX_FILE_BYTES} bytes.`);
  const content = await repo.git.raw(['cat-file', 'blob', object]);
  return { repository: repo.label, ref: name, commit, path: cleanPath, content };
}
