import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './nix.js';

const IDENTITY = ['-c', 'user.name=Flotilla Test', '-c', 'user.email=test@flotilla.invalid'];

/**
 * A bare repository standing in for GitHub, with a working clone to commit from.
 * All git calls use argument arrays.
 */
export class GitFlakeRepo {
  readonly bare: string;
  readonly work: string;

  private constructor(
    root: string,
    readonly branch: string,
    work?: string,
  ) {
    this.bare = join(root, 'origin.git');
    this.work = work ?? join(root, 'work');
  }

  /** A bare repository at `<root>/origin.git` and a working clone (`<root>/work` unless given). */
  static async create(root: string, branch = 'main', work?: string): Promise<GitFlakeRepo> {
    const repo = new GitFlakeRepo(root, branch, work);
    await mkdir(root, { recursive: true });
    await repo.git(root, ['init', '--quiet', '--bare', `--initial-branch=${branch}`, repo.bare]);
    await repo.git(root, ['init', '--quiet', `--initial-branch=${branch}`, repo.work]);
    await repo.git(repo.work, ['remote', 'add', 'origin', repo.bare]);
    return repo;
  }

  /** Runs git in `cwd`; throws with git's stderr on failure. Returns stdout. */
  async git(cwd: string, args: readonly string[]): Promise<string> {
    const result = await run('git', ['-C', cwd, ...IDENTITY, ...args]);
    if (result.code !== 0) throw new Error(`git ${args.join(' ')} failed: ${result.stderr}`);
    return result.stdout.trim();
  }

  /** Commits everything in the working tree and returns the new commit's sha. */
  async commit(message: string): Promise<string> {
    await this.git(this.work, ['add', '--all']);
    await this.git(this.work, ['commit', '--quiet', '--allow-empty', '-m', message]);
    return this.git(this.work, ['rev-parse', 'HEAD']);
  }

  /** Pushes the branch (fast-forward) to the bare repository. */
  async push(): Promise<void> {
    await this.git(this.work, ['push', '--quiet', 'origin', `HEAD:refs/heads/${this.branch}`]);
  }

  /** Pushes HEAD to any ref, e.g. `refs/pull/7/head` as GitHub does for pull requests. */
  async pushRef(ref: string, force = false): Promise<void> {
    await this.git(this.work, [
      'push',
      '--quiet',
      ...(force ? ['--force'] : []),
      'origin',
      `HEAD:${ref}`,
    ]);
  }

  /** Rewrites the branch: resets the working clone to `sha` and force-pushes. */
  async forcePushTo(sha: string): Promise<void> {
    await this.git(this.work, ['reset', '--quiet', '--hard', sha]);
    await this.git(this.work, [
      'push',
      '--quiet',
      '--force',
      'origin',
      `HEAD:refs/heads/${this.branch}`,
    ]);
  }

  async checkout(refOrSha: string, newBranch?: string): Promise<void> {
    await this.git(this.work, [
      'checkout',
      '--quiet',
      ...(newBranch ? ['-b', newBranch] : []),
      refOrSha,
    ]);
  }
}
