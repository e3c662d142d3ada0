import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'App Dev', GIT_AUTHOR_EMAIL: 'dev@app.test', GIT_COMMITTER_NAME: 'App Dev', GIT_COMMITTER_EMAIL: 'dev@app.test',
  GIT_CONFIG_NOSYSTEM: '1',
};

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/**
 * An application repository as a project would point at: a bare `origin` (what Cutover clones,
 * fetches and pushes to) and a working clone to make commits with, on `defaultBranch`.
 */
export function createAppRepository(files: Record<string, string>, defaultBranch = 'main') {
  const root = mkdtempSync(path.join(tmpdir(), 'cutover-app-repo-'));
  const origin = path.join(root, 'origin.git');
  const work = path.join(root, 'work');
  git(root, 'init', '--bare', '--initial-branch', defaultBranch, origin);
  git(root, 'init', '--initial-branch', defaultBranch, work);
  git(work, 'remote', 'add', 'origin', origin);

  /** Commits files (path → content) on a branch (created from the default branch when new) and pushes it; returns the sha. */
  function commit(branch: string, changed: Record<string, string>, message = 'change'): string {
    const exists = git(work, 'branch', '--list', branch) !== '';
    const hasCommits = (() => { try { git(work, 'rev-parse', '--verify', 'HEAD'); return true; } catch { return false; } })();
    if (hasCommits) git(work, 'checkout', '-q', ...(exists ? [branch] : ['-b', branch, defaultBranch]));
    else if (branch !== defaultBranch) throw new Error('commit on the default branch first');
    for (const [file, content] of Object.entries(changed)) {
      mkdirSync(path.dirname(path.join(work, file)), { recursive: true });
      writeFileSync(path.join(work, file), content);
      git(work, 'add', file);
    }
    git(work, 'commit', '-q', '--allow-empty', '-m', message);
    git(work, 'push', '-q', 'origin', `${branch}:refs/heads/${branch}`);
    return git(work, 'rev-parse', 'HEAD');
  }

  const initial = commit(defaultBranch, files, 'initial');
  return {
    root, origin, work, initial, commit,
    /** The sha a branch of origin points at. */
    head: (branch = defaultBranch) => git(origin, 'rev-parse', `refs/heads/${branch}`),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}
