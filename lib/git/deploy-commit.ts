import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DomainError } from '../domain/errors';
import { bumpPatch } from '../domain/deploy';
import { branchCommit, branchNameProblem, redactGitText, syncRepository, type RepositoryOptions, type RepositoryProject, type SyncedRepository } from './repository';

/**
 * The deploy side of a project's repository: the migration's files committed at
 * `prisma/migrations/<folder>/{migration.sql,down.sql}` with package.json's patch version bumped,
 * on top of the deploy branch as fetched, and pushed there. Built with git's plumbing in the bare
 * cache (lib/git/repository.ts): no working tree, so a worker killed half-way leaves nothing that
 * a later deploy trips over. Idempotent per revision: when the branch already carries identical
 * files (an earlier environment's deploy, or a push whose worker died before recording it), that
 * commit is reused and nothing is pushed again.
 */

export interface DeployCommitInput {
  project: RepositoryProject & { deployBranch: string };
  /** The Prisma migrations folder name (<timestamp>_<name>). */
  folder: string;
  migrationSql: string;
  /** '' when the revision has no way back (then no down.sql is written). */
  downSql: string;
  message: string;
  author: { name: string; email: string };
}

export interface DeployCommitResult {
  commit: string;
  /** package.json's version at that commit (after the bump). */
  version: string;
  /** The branch already had these files: the commit was found, not made. */
  reused: boolean;
  branch: string;
}

export interface DeployCommitHooks extends RepositoryOptions {
  /** A line for the deploy's live log. */
  log?: (line: string) => void;
  /** Called after the commit is made and before it is pushed (the deploy records its phase). */
  beforePush?: (commit: string, version: string) => Promise<void>;
}

/** A push the remote refused because its branch moved on: nothing was pushed. */
export class PushRejectedError extends DomainError {
  constructor(branch: string, detail: string) {
    super('conflict', `The push to ${branch} was rejected (non-fast-forward: the branch moved since Cutover fetched it). Nothing was pushed and nothing else was done; deploy again to commit on top of the new ${branch}. git said: ${detail}`);
    this.name = 'PushRejectedError';
  }
}

const folderProblem = (folder: string) => (/^[A-Za-z0-9_.-]+$/.test(folder) && !folder.startsWith('.') ? null : `"${folder}" is not a migrations folder name.`);

async function blobAt(repo: SyncedRepository, commit: string, file: string): Promise<string | null> {
  const type = await repo.git.raw(['cat-file', '-t', `${commit}:${file}`]).then((s) => s.trim(), () => null);
  if (type !== 'blob') return null;
  return repo.git.raw(['cat-file', 'blob', `${commit}:${file}`]);
}

function versionOf(packageJson: string, where: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(packageJson);
  } catch {
    throw new DomainError('invalid', `package.json at ${where} is not valid JSON; fix it on the branch and deploy again.`);
  }
  const version = (parsed as { version?: unknown })?.version;
  if (typeof version !== 'string') throw new DomainError('invalid', `package.json at ${where} has no "version"; add one (e.g. "1.0.0") and deploy again.`);
  return version;
}

/** package.json with only its version changed (the rest byte for byte, so the diff is one line). */
function withVersion(packageJson: string, from: string, to: string): string {
  const pattern = new RegExp(`("version"\\s*:\\s*")${from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(")`);
  if (!pattern.test(packageJson)) throw new DomainError('invalid', 'Could not find the "version" line in package.json to bump it.');
  return packageJson.replace(pattern, `$1${to}$2`);
}

/** Writes `content` into the repository's object store (through a temporary file: git reads it there). */
async function hashObject(repo: SyncedRepository, dir: string, content: string): Promise<string> {
  const file = path.join(dir, randomBytes(6).toString('hex'));
  await writeFile(file, content);
  return (await repo.git.raw(['hash-object', '-w', '--', file])).trim();
}

/**
 * Commits the migration's files and the version bump on top of the deploy branch and pushes it,
 * or finds the commit that already carries them. Refusals say what to do: a missing branch or
 * package.json, a rejected push (PushRejectedError).
 */
export async function commitMigration(input: DeployCommitInput, hooks: DeployCommitHooks = {}): Promise<DeployCommitResult> {
  const branch = input.project.deployBranch.trim();
  const branchProblem = branchNameProblem(branch);
  if (branchProblem) throw new DomainError('invalid', `Project ${input.project.name}'s deploy branch: ${branchProblem}`);
  const problem = folderProblem(input.folder);
  if (problem) throw new DomainError('invalid', problem);
  const log = hooks.log ?? (() => undefined);

  const repo = await syncRepository(input.project, hooks);
  const base = await branchCommit(repo, branch);
  if (!base) throw new DomainError('conflict', `Branch ${branch} was not found in ${repo.label}: create it (or correct the project's deploy branch) and deploy again.`);
  log(`fetched ${repo.label}: ${branch} is at ${base.slice(0, 12)}`);

  const dir = `prisma/migrations/${input.folder}`;
  const files = [{ path: `${dir}/migration.sql`, content: input.migrationSql }, ...(input.downSql.trim() ? [{ path: `${dir}/down.sql`, content: input.downSql }] : [])];
  const present = await Promise.all(files.map((f) => blobAt(repo, base, f.path)));
  if (files.every((f, i) => present[i] === f.content)) {
    // Already on the branch: the commit that last wrote the folder carries them (and its bump).
    const carrier = (await repo.git.raw(['log', '-1', '--format=%H', base, '--', dir])).trim() || base;
    const pkg = await blobAt(repo, carrier, 'package.json');
    const version = pkg ? versionOf(pkg, `commit ${carrier.slice(0, 12)}`) : '';
    log(`${branch} already carries ${dir} as this revision has it (commit ${carrier.slice(0, 12)}${version ? `, version ${version}` : ''}): reusing it, nothing to push`);
    return { commit: carrier, version, reused: true, branch };
  }

  const pkg = await blobAt(repo, base, 'package.json');
  if (pkg === null) throw new DomainError('invalid', `${branch} has no package.json at the repository's root: Cutover bumps its patch version on deploy. Add one and deploy again.`);
  const from = versionOf(pkg, `${branch} (${base.slice(0, 12)})`);
  const version = bumpPatch(from);
  if (!version) throw new DomainError('invalid', `package.json's version "${from}" is not a semantic version (x.y.z): fix it on ${branch} and deploy again.`);

  const scratch = await mkdtemp(path.join(tmpdir(), 'cutover-deploy-'));
  // The bare cache's own index, filled from the branch for this commit only (no working tree).
  const index = path.join(scratch, 'index');
  try {
    // One variable added to this handle's own environment (its credentials stay as they are).
    const git = repo.git.env('GIT_INDEX_FILE', index);
    await git.raw(['read-tree', base]);
    for (const f of [...files, { path: 'package.json', content: withVersion(pkg, from, version) }]) {
      const blob = await hashObject(repo, scratch, f.content);
      await git.raw(['update-index', '--add', '--cacheinfo', `100644,${blob},${f.path}`]);
    }
    const tree = (await git.raw(['write-tree'])).trim();
    const commit = (
      await git.raw([
        '-c', `user.name=${input.author.name.replace(/[<>\n]/g, '')}`, '-c', `user.email=${input.author.email.replace(/[<>\s]/g, '')}`,
        'commit-tree', tree, '-p', base, '-m', input.message,
      ])
    ).trim();
    log(`committed ${files.map((f) => f.path).join(', ')} and package.json ${from} -> ${version}: ${commit.slice(0, 12)}`);
    await hooks.beforePush?.(commit, version);
    log(`pushing ${commit.slice(0, 12)} to ${branch}`);
    try {
      await repo.git.raw(['push', '--porcelain', 'origin', `${commit}:refs/heads/${branch}`]);
    } catch (err) {
      // Redacted like every other git message: a remote may echo the URL with its credential.
      const text = redactGitText(err instanceof Error ? err.message : String(err), input.project);
      if (/\[rejected\]|non-fast-forward|fetch first|\(stale info\)/i.test(text)) throw new PushRejectedError(branch, lastLine(text));
      if (hooks.signal?.aborted) throw new DomainError('conflict', `The push to ${branch} was cancelled.`);
      throw new DomainError('conflict', `The push to ${branch} of ${repo.label} failed: ${lastLine(text)}. Check the repository's credential and that Cutover may push to ${branch}.`);
    }
    log(`pushed ${commit.slice(0, 12)} to ${branch} (version ${version})`);
    return { commit, version, reused: false, branch };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  return (lines.filter((l) => !/^(To |Done$)/.test(l)).slice(-2).join(' ') || lines.at(-1) || 'no message').slice(0, 300);
}

/** Whether the deploy branch already carries the revision's files (after a fetch): what a killed deploy left behind. */
export async function branchCarries(input: Pick<DeployCommitInput, 'project' | 'folder' | 'migrationSql'>, options: RepositoryOptions = {}): Promise<string | null> {
  const repo = await syncRepository(input.project, options);
  const base = await branchCommit(repo, input.project.deployBranch.trim());
  if (!base) return null;
  const content = await blobAt(repo, base, `prisma/migrations/${input.folder}/migration.sql`);
  if (content !== input.migrationSql) return null;
  return (await repo.git.raw(['log', '-1', '--format=%H', base, '--', `prisma/migrations/${input.folder}`])).trim() || base;
}
