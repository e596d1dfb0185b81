import { constants } from 'node:fs';
import {
  access,
  lstat,
  readdir,
  readFile,
  readlink,
  realpath,
  stat,
  statfs,
} from 'node:fs/promises';
import os from 'node:os';
import type { ProcessRunner } from '@flotilla/runtime';

/** Size and free space of the filesystem holding a path. */
export interface FilesystemUsage {
  /** Device id, equal for paths on the same filesystem. */
  device: number;
  totalBytes: number;
  /** Space available to unprivileged users (statfs `bavail`), like `df` shows. */
  freeBytes: number;
}

/** What Node reports itself; used where /proc does not exist (macOS). */
export interface PortableHostInfo {
  hostname(): string;
  release(): string;
  uptime(): number;
  loadavg(): number[];
  totalmem(): number;
  freemem(): number;
}

/**
 * Everything the facts collector reads from the host. Each read answers null when the
 * thing is absent or unreadable: a missing fact is reported as null, never as a failure.
 */
export interface HostSources {
  readText(path: string): Promise<string | null>;
  realpath(path: string): Promise<string | null>;
  isExecutable(path: string): Promise<boolean>;
  /** The names in a directory. */
  listDir(path: string): Promise<string[] | null>;
  /** A symlink's target (as written) and its own mtime; null when it is not a symlink. */
  linkInfo(path: string): Promise<{ target: string; mtimeMs: number } | null>;
  filesystemUsage(path: string): Promise<FilesystemUsage | null>;
  /** Runs a program and returns its stdout, or null if it failed. */
  runForOutput(command: string, args: readonly string[]): Promise<string | null>;
  portable: PortableHostInfo;
}

const COMMAND_TIMEOUT_MS = 10_000;

/** Reads the real host through Node's fs and the given process runner. */
export function nodeHostSources(runner: ProcessRunner, env: Record<string, string>): HostSources {
  return {
    async readText(path) {
      try {
        return await readFile(path, 'utf8');
      } catch {
        return null;
      }
    },
    async realpath(path) {
      try {
        return await realpath(path);
      } catch {
        return null;
      }
    },
    async isExecutable(path) {
      try {
        await access(path, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    },
    async listDir(path) {
      try {
        return await readdir(path);
      } catch {
        return null;
      }
    },
    async linkInfo(path) {
      try {
        const [target, info] = await Promise.all([readlink(path), lstat(path)]);
        return { target, mtimeMs: info.mtimeMs };
      } catch {
        return null;
      }
    },
    async filesystemUsage(path) {
      try {
        const [info, fsStats] = await Promise.all([stat(path), statfs(path)]);
        return {
          device: info.dev,
          totalBytes: fsStats.blocks * fsStats.bsize,
          freeBytes: fsStats.bavail * fsStats.bsize,
        };
      } catch {
        return null;
      }
    },
    async runForOutput(command, args) {
      const result = await runner.run(command, args, {
        env,
        timeoutMs: COMMAND_TIMEOUT_MS,
        captureStdout: true,
      });
      return result.exitCode === 0 ? result.stdout : null;
    },
    portable: os,
  };
}
