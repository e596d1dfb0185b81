import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  FlotillaError,
  repositoryUrlKind,
  repositoryUrlProblem,
  type RepositoryUrlKind,
  type RepositoryUrlOrigin,
} from '@flotilla/protocol';
import { processRunner, type RunResult } from '@flotilla/runtime';
import { redact } from './redact.js';
import { patternPrefix, refMatchesAny } from './ref-patterns.js';

/** How git authenticates to the remote. Both may be set; git uses what the URL needs. */
export interface GitAuth {
  /** HTTPS access token, sent as the password of user `x-access-token`. */
  token?: string;
  /** Private key for ssh URLs (a deploy key). */
  sshKeyFile?: string;
}

export interface GitClientOptions {
  /** The bare mirror, created on first use. */
  gitDir: string;
  /**
   * The remote's URL; never carries a password (tokens go through {@link GitAuth}). It must
   * be one of the kinds of `repositoryUrlKind`: anything else is refused before git runs.
   */
  url: string;
  /**
   * Whether the link comes from the config file, whose operator may name local paths and
   * plain http; a link from the API reaches git over https or ssh only.
   */
  origin: RepositoryUrlOrigin;
  auth: GitAuth;
  /** A private directory (0700) for the credential helper and ssh's known_hosts. */
  helperDir: string;
  /** Network operations are killed after this long. Default 5 minutes. */
  fetchTimeoutMs?: number;
  /** Local operations are killed after this long. Default 1 minute. */
  commandTimeoutMs?: number;
  gitBinary?: string;
  /** The environment git starts from (the controller's child environment). */
  baseEnv: Record<string, string>;
}

export interface CommitInfo {
  /** The full message, without its trailing newline. */
  message: string;
  /** `Name <email>`. */
  author: string;
  /** Commit time, ISO 8601 in UTC. */
  committedAt: string;
}

export interface RefHead {
  ref: string;
  sha: string;
}

const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/** Git's transports by name (`protocol.<name>.allow`); anything unnamed is `protocol.allow`. */
const GIT_PROTOCOLS = ['https', 'http', 'ssh', 'file', 'git', 'ext'] as const;
type GitProtocol = (typeof GIT_PROTOCOLS)[number];

/** The transport git uses for a URL of each kind. */
const PROTOCOL_OF: Record<RepositoryUrlKind, GitProtocol> = {
  https: 'https',
  http: 'http',
  ssh: 'ssh',
  scp: 'ssh',
  file: 'file',
  path: 'file',
};

/**
 * `-c` settings that let git speak only https and ssh, plus the URL's own transport when
 * the config file named a local path or plain http. Every transport is named, so a
 * `protocol.<name>.allow` in the user's git config cannot widen it; `protocol.allow=never`
 * covers remote helpers (`ext::`, `fd::`, …) and submodules alike.
 */
export function protocolSettings(url: string, origin: RepositoryUrlOrigin): string[] {
  const kind = repositoryUrlKind(url);
  const allowed = new Set<GitProtocol>(['https', 'ssh']);
  if (origin === 'config' && kind !== undefined) allowed.add(PROTOCOL_OF[kind]);
  return [
    '-c',
    'protocol.allow=never',
    ...GIT_PROTOCOLS.flatMap((name) => [
      '-c',
      `protocol.${name}.allow=${allowed.has(name) ? 'always' : 'never'}`,
    ]),
  ];
}

// Prints the token for password prompts and the user GitHub expects with tokens for user
// name prompts. The token comes from the environment of the one git process that needs it,
// so it is never in an argument list, a file, or git's config.
const ASKPASS_SCRIPT = `#!/bin/sh
case "$1" in
  Username*) printf '%s\\n' x-access-token ;;
  *) printf '%s\\n' "$FLOTILLA_GIT_PASSWORD" ;;
esac
`;

/**
 * One bare mirror of a remote repository. Every git command runs with an argument array,
 * a timeout and no terminal prompt; every failure becomes `git_failed` with git's stderr,
 * credentials removed.
 */
export class GitClient {
  private prepared: Promise<void> | undefined;
  private readonly askpassPath: string;

  constructor(private readonly options: GitClientOptions) {
    this.askpassPath = join(options.helperDir, 'git-askpass.sh');
  }

  /** The mirror's directory, for readers such as `nix` (`git+file://…`). */
  get gitDir(): string {
    return this.options.gitDir;
  }

  /** Creates the bare mirror and the credential helper if they do not exist yet. */
  ensureMirror(): Promise<void> {
    this.prepared ??= this.prepare().catch((error: unknown) => {
      this.prepared = undefined;
      throw error;
    });
    return this.prepared;
  }

  private async prepare(): Promise<void> {
    const { gitDir, helperDir } = this.options;
    await mkdir(helperDir, { recursive: true, mode: 0o700 });
    // Written aside and renamed, so a concurrent git never runs a half-written script.
    const temporary = `${this.askpassPath}.${process.pid}.tmp`;
    await writeFile(temporary, ASKPASS_SCRIPT, { mode: 0o700 });
    await rename(temporary, this.askpassPath);
    if (existsSync(join(gitDir, 'HEAD'))) return;
    await mkdir(dirname(gitDir), { recursive: true, mode: 0o700 });
    await this.git(['init', '--bare', '--quiet', '--', gitDir], { noGitDir: true });
  }

  /**
   * Fetches `refspecs` (forced, pruned) from the remote into the mirror. The URL and the
   * refspecs come after `--end-of-options`, so none of them is ever read as an option
   * (`--upload-pack=…` runs a command); a URL of a kind git must not be given is refused
   * before git runs at all.
   */
  async fetch(refspecs: readonly string[]): Promise<void> {
    const { url, origin, auth } = this.options;
    const problem = repositoryUrlProblem(url, origin, { token: auth.token !== undefined });
    if (problem !== undefined) {
      throw new FlotillaError('git_failed', `the repository URL is refused: it ${problem}`);
    }
    await this.ensureMirror();
    await this.git(
      [
        'fetch',
        '--prune',
        '--no-tags',
        '--no-write-fetch-head',
        '--quiet',
        '--end-of-options',
        url,
        ...refspecs,
      ],
      { network: true },
    );
  }

  /** Fetches one ref under the same name; `ref_not_found` when the remote does not have it. */
  async fetchRef(ref: string): Promise<void> {
    try {
      await this.fetch([`+${ref}:${ref}`]);
    } catch (error) {
      if (error instanceof FlotillaError && /couldn't find remote ref/i.test(error.message)) {
        throw new FlotillaError('ref_not_found', `the remote has no ref ${ref}`);
      }
      throw error;
    }
  }

  /** The commit a ref (or revision expression) points to, or undefined. */
  async revParse(ref: string): Promise<string | undefined> {
    const result = await this.git(
      ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`],
      { okCodes: [0, 1] },
    );
    return result.exitCode === 0 ? result.stdout.trim() : undefined;
  }

  /** Whether the mirror holds this commit (a force push can leave a followed one behind). */
  async hasCommit(sha: string): Promise<boolean> {
    const result = await this.git(['cat-file', '-e', `${checkSha(sha)}^{commit}`], {
      okCodes: [0, 1, 128],
    });
    return result.exitCode === 0;
  }

  /** Whether `ancestor` is reachable from `descendant` (a fast-forward). */
  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    const result = await this.git(
      ['merge-base', '--is-ancestor', checkSha(ancestor), checkSha(descendant)],
      { okCodes: [0, 1] },
    );
    return result.exitCode === 0;
  }

  /** Commits reachable from `to` but not from `from`; null when either is unknown here. */
  async countCommits(from: string, to: string): Promise<number | null> {
    const result = await this.git(['rev-list', '--count', `${checkSha(from)}..${checkSha(to)}`], {
      okCodes: [0, 128],
    });
    if (result.exitCode !== 0) return null;
    const count = Number(result.stdout.trim());
    return Number.isInteger(count) ? count : null;
  }

  /** The best common ancestor of two commits, or undefined for unrelated histories. */
  async mergeBase(a: string, b: string): Promise<string | undefined> {
    const result = await this.git(['merge-base', checkSha(a), checkSha(b)], { okCodes: [0, 1] });
    return result.exitCode === 0 ? result.stdout.trim() : undefined;
  }

  async commitInfo(sha: string): Promise<CommitInfo> {
    const result = await this.git([
      'log',
      '-1',
      '--no-show-signature',
      '--format=%an <%ae>%x00%cI%x00%B',
      checkSha(sha),
      '--',
    ]);
    const [author = '', committed = '', ...message] = result.stdout.split('\0');
    return {
      author,
      committedAt: new Date(committed).toISOString(),
      message: message.join('\0').replace(/\n+$/, ''),
    };
  }

  /** Refs in the mirror that match any of `patterns` (see ref-patterns.ts), sorted by name. */
  async listRefs(patterns: readonly string[]): Promise<RefHead[]> {
    if (patterns.length === 0) return [];
    const result = await this.git([
      'for-each-ref',
      '--format=%(refname)%00%(objectname)%00%(*objectname)',
      '--end-of-options',
      ...new Set(patterns.map(listingPrefix)),
    ]);
    const heads: RefHead[] = [];
    for (const line of result.stdout.split('\n')) {
      const [ref = '', sha = '', peeled = ''] = line.split('\0');
      if (ref === '' || !refMatchesAny(patterns, ref)) continue;
      heads.push({ ref, sha: peeled !== '' ? peeled : sha });
    }
    return heads.sort((a, b) => a.ref.localeCompare(b.ref));
  }

  /** Paths changed from `base` to `head`; every path of `head` when there is no base. */
  async changedFiles(base: string | undefined, head: string): Promise<string[]> {
    const args =
      base === undefined
        ? ['ls-tree', '-r', '--name-only', '-z', checkSha(head)]
        : ['diff-tree', '-r', '--name-only', '-z', '--no-renames', checkSha(base), checkSha(head)];
    const result = await this.git(args);
    return result.stdout.split('\0').filter((path) => path !== '');
  }

  /** Points a ref at a commit, e.g. to keep a followed commit from being garbage-collected. */
  async updateRef(ref: string, sha: string): Promise<void> {
    await this.git(['update-ref', '--end-of-options', ref, checkSha(sha)]);
  }

  /** Removes a ref of the mirror (nothing happens when it does not exist). */
  async deleteRef(ref: string): Promise<void> {
    await this.git(['update-ref', '-d', '--end-of-options', ref]);
  }

  /**
   * Pushes `sha` to `refs/heads/<branch>` of the remote, never forced: the remote refuses
   * unless its branch is an ancestor of `sha`, so a branch that moved meanwhile is never
   * overwritten (`push_rejected` in the error's message). Credentials as for fetches; the
   * token or deploy key must allow writing. No hook of the mirror runs.
   */
  async push(sha: string, branch: string): Promise<void> {
    const { url, origin, auth } = this.options;
    const problem = repositoryUrlProblem(url, origin, { token: auth.token !== undefined });
    if (problem !== undefined) {
      throw new FlotillaError('git_failed', `the repository URL is refused: it ${problem}`);
    }
    await this.ensureMirror();
    await this.git(
      [
        '-c',
        'core.hooksPath=/dev/null',
        'push',
        '--quiet',
        '--no-verify',
        '--end-of-options',
        url,
        `${checkSha(sha)}:refs/heads/${branch}`,
      ],
      { network: true },
    );
  }

  /**
   * Runs a local git command in the mirror, for the plumbing of `git-objects.ts` (reading
   * trees and blobs, writing blobs, trees and commits). No network and no token; `env`
   * adds git's own variables (an index file, author and committer). The caller makes its
   * arguments safe (checked ids, `--end-of-options`, paths only through stdin).
   */
  plumbing(
    args: readonly string[],
    options: { okCodes?: readonly number[]; input?: string; env?: Record<string, string> } = {},
  ): Promise<RunResult> {
    return this.git(args, options);
  }

  private async git(
    args: readonly string[],
    options: {
      okCodes?: readonly number[];
      network?: boolean;
      noGitDir?: boolean;
      input?: string;
      env?: Record<string, string>;
    } = {},
  ): Promise<RunResult> {
    const { gitDir, fetchTimeoutMs = 300_000, commandTimeoutMs = 60_000 } = this.options;
    const timeoutMs = options.network === true ? fetchTimeoutMs : commandTimeoutMs;
    // An empty credential.helper list keeps a helper from the user's git config from
    // storing the token (helpers are told about credentials that worked).
    const prefix = [
      '-c',
      'credential.helper=',
      ...protocolSettings(this.options.url, this.options.origin),
      ...(options.noGitDir ? [] : ['--git-dir', gitDir]),
    ];
    let result: RunResult;
    try {
      result = await processRunner.run(this.options.gitBinary ?? 'git', [...prefix, ...args], {
        env: { ...this.environment(options.network === true), ...options.env },
        timeoutMs,
        captureStdout: true,
        ...(options.input !== undefined ? { input: options.input } : {}),
      });
    } catch (error) {
      throw this.failure(args, `cannot run git: ${(error as Error).message}`);
    }
    if (result.timedOut) {
      throw this.failure(args, `timed out after ${Math.round(timeoutMs / 1000)} s`);
    }
    if (!(options.okCodes ?? [0]).includes(result.exitCode ?? -1)) {
      const stderr = result.stderr.trim() || result.stdout.trim();
      throw this.failure(args, `exit ${result.exitCode ?? 'signal'}: ${stderr}`);
    }
    return result;
  }

  /**
   * Git's environment: the controller's child environment, no prompts, ssh's options, and
   * the token only for the network commands of an https remote (everything git starts
   * inherits its environment: hooks, helpers, ssh).
   */
  private environment(network: boolean): Record<string, string> {
    const { auth, helperDir } = this.options;
    const sendsToken = network && auth.token !== undefined && /^https:/i.test(this.options.url);
    const ssh = [
      'ssh',
      ...(auth.sshKeyFile === undefined
        ? []
        : ['-i', shellQuote(auth.sshKeyFile), '-o', 'IdentitiesOnly=yes']),
      '-o',
      'BatchMode=yes',
      '-o',
      'StrictHostKeyChecking=accept-new',
      '-o',
      `UserKnownHostsFile=${shellQuote(join(helperDir, 'known_hosts'))}`,
    ];
    return {
      ...this.options.baseEnv,
      GIT_TERMINAL_PROMPT: '0',
      GIT_ASKPASS: this.askpassPath,
      // git runs GIT_SSH_COMMAND through a shell: the paths in it are quoted.
      GIT_SSH_COMMAND: ssh.join(' '),
      ...(sendsToken ? { FLOTILLA_GIT_PASSWORD: auth.token } : {}),
      // Messages are matched (e.g. "couldn't find remote ref"); keep them untranslated.
      LC_ALL: 'C',
    };
  }

  private failure(args: readonly string[], detail: string): FlotillaError {
    const command = args.find((arg, index) => !arg.startsWith('-') && args[index - 1] !== '-c');
    const message = `git ${command ?? ''} failed: ${detail}`;
    return new FlotillaError('git_failed', redact(message, [this.options.auth.token]));
  }
}

/** The mirror of repository `id` under the controller's state directory. */
export function mirrorPath(stateDir: string, repositoryId: string): string {
  return join(stateDir, 'repositories', repositoryId, 'mirror.git');
}

/**
 * What for-each-ref is given for a pattern: the pattern itself when it is exact, else the
 * directory before its first `*` (for-each-ref matches such a prefix up to a slash, while
 * its own globs would not cross `/`). The result is narrowed by refMatchesAny.
 */
function listingPrefix(pattern: string): string {
  if (!pattern.includes('*')) return pattern;
  const prefix = patternPrefix(pattern);
  return prefix.slice(0, Math.max(prefix.lastIndexOf('/'), 0)) || 'refs';
}

function checkSha(sha: string): string {
  if (!SHA.test(sha)) throw new FlotillaError('git_failed', `not a commit id: ${sha.slice(0, 80)}`);
  return sha;
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
