import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlotillaError } from '@flotilla/protocol';
import type { GitClient } from './git.client.js';

/** One entry of a git tree: a file (blob), a directory (tree) or a submodule (commit). */
export interface TreeEntry {
  /** Relative to the repository root. */
  path: string;
  type: 'blob' | 'tree' | 'commit';
  /** Git's mode: `100644`, `100755`, `120000` (symlink), `040000`, `160000`. */
  mode: string;
  oid: string;
  /** Bytes of a blob; null otherwise. */
  size: number | null;
}

/** A file of a new tree: its blob and mode, or null to remove it. */
export interface TreeUpdate {
  path: string;
  blob: { oid: string; mode: string } | null;
}

/** Who a commit names, and when. */
export interface GitIdentity {
  name: string;
  email: string;
}

/** A text file's content, or why it is not one. */
export type TextRead =
  { ok: true; content: string } | { ok: false; reason: 'not_text' | 'too_large'; size: number };

const OID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/**
 * Reading and writing objects of a bare mirror with git's plumbing, no working tree:
 * trees and blobs at a commit, new blobs, a tree made from a commit's tree plus changes
 * (in a private temporary index), a commit of that tree, and a three-way merge of one
 * file's versions. Ids are checked before they reach git's command line; paths never do
 * (they travel through stdin, or as `<commit>:<path>` after `--end-of-options`).
 */
export class GitObjects {
  constructor(private readonly git: Pick<GitClient, 'plumbing'>) {}

  /**
   * The entries of directory `dir` ('' for the root) at `commit`, sorted by path; below it
   * too when `recursive` (directories are entries of their own). At most `limit` entries;
   * undefined when `dir` is not a directory there.
   */
  async listTree(
    commit: string,
    dir: string,
    options: { recursive: boolean; limit: number },
  ): Promise<{ entries: TreeEntry[]; truncated: boolean } | undefined> {
    const treeish = dir === '' ? checkOid(commit) : `${checkOid(commit)}:${dir}`;
    const result = await this.git.plumbing(
      [
        'ls-tree',
        '-z',
        '-l',
        ...(options.recursive ? ['-r', '-t'] : []),
        '--end-of-options',
        treeish,
      ],
      { okCodes: [0, 128] },
    );
    if (result.exitCode !== 0) return undefined;
    const prefix = dir === '' ? '' : `${dir}/`;
    const records = result.stdout.split('\0').filter((record) => record !== '');
    const entries = records.slice(0, options.limit).map((record) => parseEntry(record, prefix));
    return { entries, truncated: records.length > options.limit };
  }

  /** Every file and directory path at `commit` (for checking where new files may go). */
  async allPaths(commit: string): Promise<{ files: Set<string>; dirs: Set<string> }> {
    const listing = await this.listTree(commit, '', { recursive: true, limit: Infinity });
    const files = new Set<string>();
    const dirs = new Set<string>();
    for (const entry of listing?.entries ?? []) {
      (entry.type === 'tree' ? dirs : files).add(entry.path);
    }
    return { files, dirs };
  }

  /** The entry at `path` in `commit`, or undefined when there is none. */
  async entry(commit: string, path: string): Promise<TreeEntry | undefined> {
    const slash = path.lastIndexOf('/');
    const dir = slash < 0 ? '' : path.slice(0, slash);
    const listing = await this.listTree(commit, dir, { recursive: false, limit: Infinity });
    return listing?.entries.find((entry) => entry.path === path);
  }

  /**
   * A blob's content when it is UTF-8 text of at most `maxBytes`: no NUL byte, and the
   * decoded text hashes back to the same blob (so nothing was replaced while decoding).
   */
  async readText(oid: string, maxBytes: number): Promise<TextRead> {
    const sized = await this.git.plumbing(['cat-file', '-s', checkOid(oid)]);
    const size = Number(sized.stdout.trim());
    if (!(size <= maxBytes)) return { ok: false, reason: 'too_large', size };
    const result = await this.git.plumbing(['cat-file', 'blob', oid]);
    const content = result.stdout;
    if (content.includes('\0') || blobId(content, oid.length) !== oid) {
      return { ok: false, reason: 'not_text', size };
    }
    return { ok: true, content };
  }

  /** Stores `content` (UTF-8) as a blob; returns its id. */
  async writeBlob(content: string): Promise<string> {
    const result = await this.git.plumbing(['hash-object', '-w', '--stdin'], { input: content });
    return checkOid(result.stdout.trim());
  }

  /** The tree of a commit. */
  async treeOf(commit: string): Promise<string> {
    const result = await this.git.plumbing([
      'rev-parse',
      '--verify',
      '--end-of-options',
      `${checkOid(commit)}^{tree}`,
    ]);
    return checkOid(result.stdout.trim());
  }

  /**
   * A tree: `commit`'s tree with `updates` applied (written to a temporary index of its
   * own, so nothing else of the mirror changes). Paths travel through stdin, NUL-separated.
   */
  async buildTree(commit: string, updates: readonly TreeUpdate[]): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'flotilla-index-'));
    const env = { GIT_INDEX_FILE: join(dir, 'index') };
    try {
      await this.git.plumbing(['read-tree', '--end-of-options', checkOid(commit)], { env });
      const zero = '0'.repeat(commit.length);
      const lines = updates.map(({ path, blob }) =>
        blob === null ? `0 ${zero}\t${path}\0` : `${blob.mode} ${checkOid(blob.oid)}\t${path}\0`,
      );
      if (lines.length > 0) {
        await this.git.plumbing(['update-index', '-z', '--index-info'], {
          env,
          input: lines.join(''),
        });
      }
      const result = await this.git.plumbing(['write-tree'], { env });
      return checkOid(result.stdout.trim());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Makes a commit of `tree` on `parent`; returns its id. The message goes through stdin. */
  async commitTree(input: {
    tree: string;
    parent: string;
    message: string;
    author: GitIdentity;
    committer: GitIdentity;
    at: Date;
  }): Promise<string> {
    const date = `@${Math.floor(input.at.getTime() / 1000)} +0000`;
    const result = await this.git.plumbing(
      ['commit-tree', checkOid(input.tree), '-p', checkOid(input.parent), '-F', '-'],
      {
        input: input.message.endsWith('\n') ? input.message : `${input.message}\n`,
        env: {
          GIT_AUTHOR_NAME: input.author.name,
          GIT_AUTHOR_EMAIL: input.author.email,
          GIT_AUTHOR_DATE: date,
          GIT_COMMITTER_NAME: input.committer.name,
          GIT_COMMITTER_EMAIL: input.committer.email,
          GIT_COMMITTER_DATE: date,
        },
      },
    );
    return checkOid(result.stdout.trim());
  }

  /**
   * Three-way merge of one file (`git merge-file`): the branch's version and the draft's,
   * both from `base`. Clean when no change overlaps; otherwise `merged` has conflict markers.
   */
  async mergeText(versions: {
    base: string;
    branch: string;
    draft: string;
  }): Promise<{ clean: boolean; merged: string }> {
    const dir = await mkdtemp(join(tmpdir(), 'flotilla-merge-'));
    try {
      const files = {
        branch: join(dir, 'branch'),
        base: join(dir, 'base'),
        draft: join(dir, 'draft'),
      };
      await Promise.all([
        writeFile(files.branch, versions.branch),
        writeFile(files.base, versions.base),
        writeFile(files.draft, versions.draft),
      ]);
      const result = await this.git.plumbing(
        [
          'merge-file',
          '-p',
          '-L',
          'branch',
          '-L',
          'base',
          '-L',
          'draft',
          files.branch,
          files.base,
          files.draft,
        ],
        // 0: clean; 1..127: the number of conflicts; anything else is an error.
        { okCodes: Array.from({ length: 128 }, (_, code) => code) },
      );
      return { clean: result.exitCode === 0, merged: result.stdout };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

/** Git's id of a blob with this content (SHA-1, or SHA-256 when `oidLength` is 64). */
export function blobId(content: string, oidLength = 40): string {
  const bytes = Buffer.from(content, 'utf8');
  return createHash(oidLength === 64 ? 'sha256' : 'sha1')
    .update(`blob ${bytes.length}\0`)
    .update(bytes)
    .digest('hex');
}

/** One `ls-tree -z -l` record: `<mode> <type> <oid> <size>\t<path>`. */
function parseEntry(record: string, prefix: string): TreeEntry {
  const tab = record.indexOf('\t');
  const [mode = '', type = '', oid = '', size = '-'] = record.slice(0, tab).split(/ +/);
  if (tab < 0 || (type !== 'blob' && type !== 'tree' && type !== 'commit')) {
    throw new FlotillaError('git_failed', `unexpected ls-tree output: ${record.slice(0, 200)}`);
  }
  return {
    path: `${prefix}${record.slice(tab + 1)}`,
    type,
    mode,
    oid,
    size: size === '-' ? null : Number(size),
  };
}

function checkOid(oid: string): string {
  if (!OID.test(oid))
    throw new FlotillaError('git_failed', `not an object id: ${oid.slice(0, 80)}`);
  return oid;
}
