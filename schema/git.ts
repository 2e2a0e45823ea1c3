import { execFileSync } from 'node:child_process';

/** Raised for a base ref or repository schema:check cannot read; the message is for the person running it. */
export class GitError extends Error {}

function git(root: string, args: string[]): string {
  return execFileSync('git', ['-C', root, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** The commit `ref` names in the repository at `root`. */
export function resolveCommit(root: string, ref: string): string {
  try {
    git(root, ['rev-parse', '--is-inside-work-tree']);
  } catch {
    throw new GitError(`${root} is not inside a git work tree; schema:check compares against committed files`);
  }
  try {
    return git(root, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]).trim();
  } catch {
    throw new GitError(
      `--base ${JSON.stringify(ref)} is not a commit in ${root} (try HEAD, origin/main or a commit hash)`,
    );
  }
}

/** A file's content at `commit` (paths relative to the repository root), or undefined when it did not exist there. */
export function readAtCommit(root: string, commit: string, path: string): string | undefined {
  const prefix = git(root, ['rev-parse', '--show-prefix']).trim();
  try {
    return git(root, ['show', `${commit}:${prefix}${path}`]);
  } catch {
    return undefined;
  }
}
