import * as z from 'zod';
import { repositoryUrlProblem } from './repository-url.js';

/** Bodies of the repository API: the linked flake repository, its revisions and previews. */

/**
 * A git ref name as the controller accepts it from users: under `refs/`, no `..`, no empty
 * path segment, none of the characters git forbids. Refs are only ever passed to git as
 * arguments, never through a shell; this keeps them unambiguous all the same.
 */
export const RefName = z
  .string()
  .max(255)
  .regex(/^refs\/[A-Za-z0-9._/+@-]+$/, 'must be a ref such as refs/pull/12/head')
  .refine(
    (ref) => !ref.includes('..') && !ref.includes('//') && !/(\/|\.lock|\.)$/.test(ref),
    'is not a valid git ref name',
  );
export type RefName = z.infer<typeof RefName>;

/** A branch name (without `refs/heads/`). */
export const BranchName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_+@][A-Za-z0-9._/+@-]*$/, 'must be a branch name such as main')
  .refine(
    (name) => !name.includes('..') && !name.includes('//') && !/(\/|\.lock|\.)$/.test(name),
    'is not a valid branch name',
  );

/** A directory inside the repository, relative, without `..`; '' for the root. */
export const FlakeDir = z
  .string()
  .max(255)
  .refine(
    (dir) => dir === '' || (!dir.startsWith('/') && !dir.split('/').includes('..')),
    'must be a relative directory inside the repository',
  );

/** Where the link comes from: the config file (locked) or the API. */
export const RepositorySource = z.enum(['config', 'api']);
export type RepositorySource = z.infer<typeof RepositorySource>;

export const RepositoryAuthKind = z.enum(['none', 'token', 'ssh_key']);
export type RepositoryAuthKind = z.infer<typeof RepositoryAuthKind>;

export const Repository = z.object({
  id: z.string(),
  /** The remote URL with any credentials removed. */
  url: z.string(),
  branch: z.string(),
  flakeDir: z.string(),
  source: RepositorySource,
  /** True when the config file owns the link: the API cannot change it. */
  locked: z.boolean(),
  authKind: RepositoryAuthKind,
  pollIntervalSeconds: z.number(),
  allowForcePush: z.boolean(),
  /** The branch head the pipeline follows; null before the first successful sync. */
  followedSha: z.string().nullable(),
  lastFetchAt: z.string().nullable(),
  /** Why the last fetch failed (credentials removed); null when it succeeded. */
  lastFetchError: z.string().nullable(),
  /** A rewritten branch head that is not followed because force pushes are not allowed. */
  forcePushBlocked: z.object({ sha: z.string(), at: z.string() }).nullable(),
});
export type Repository = z.infer<typeof Repository>;

/** `PUT /api/v1/repository`: links (or re-links) the repository. Replaces the whole link. */
export const LinkRepositoryRequest = z
  .object({
    /**
     * https://…, ssh://… or git@host:path (see repository-url.ts); local paths, file:// and
     * http:// only in the config file. No password in it.
     */
    url: z
      .string()
      .min(1)
      .max(2048)
      .refine(
        (url) => !/^[a-z][a-z0-9+.-]*:\/\/[^/@]*:[^/@]*@/i.test(url),
        'must not contain a password: pass the token in "token"',
      ),
    branch: BranchName.default('main'),
    flakeDir: FlakeDir.default(''),
    pollIntervalSeconds: z.number().int().min(5).max(86400).default(60),
    allowForcePush: z.boolean().default(false),
    /** HTTPS access token; stored in a file only the controller reads, never shown again. */
    token: z.string().min(1).max(4096).optional(),
    /** Absolute path of a private key (deploy key) on the controller's machine, for ssh URLs. */
    sshKeyFile: z
      .string()
      .max(1024)
      .regex(/^\/[^\0]*$/, 'must be an absolute path')
      .optional(),
  })
  .strict()
  .refine((r) => r.token === undefined || r.sshKeyFile === undefined, {
    message: 'give either token or sshKeyFile, not both',
  })
  .superRefine((r, context) => {
    const problem = repositoryUrlProblem(r.url, 'api', { token: r.token !== undefined });
    if (problem !== undefined)
      context.addIssue({ code: 'custom', path: ['url'], message: problem });
  });
export type LinkRepositoryRequest = z.infer<typeof LinkRepositoryRequest>;

export const RevisionKind = z.enum(['branch', 'preview']);
export type RevisionKind = z.infer<typeof RevisionKind>;

export const RevisionStatus = z.enum(['pending', 'evaluating', 'evaluated', 'failed']);
export type RevisionStatus = z.infer<typeof RevisionStatus>;

/** A commit the controller discovered: a head of the tracked branch, or a previewed ref. */
export const Revision = z.object({
  id: z.string(),
  sha: z.string(),
  ref: z.string(),
  kind: RevisionKind,
  /** The full commit message. */
  message: z.string(),
  /** `Name <email>` of the commit's author. */
  author: z.string(),
  committedAt: z.string(),
  discoveredAt: z.string(),
  status: RevisionStatus,
  errorText: z.string().nullable(),
  evaluatedAt: z.string().nullable(),
  /** The tracked-branch revision this one follows (branch) or is compared with (preview). */
  baseRevisionId: z.string().nullable(),
  /** The evaluation result once evaluated; its shape is the pipeline's. */
  evaluation: z.unknown().nullable(),
});
export type Revision = z.infer<typeof Revision>;

export const RevisionList = z.object({ revisions: z.array(Revision) });
export type RevisionList = z.infer<typeof RevisionList>;

export const RevisionListQuery = z.object({
  kind: RevisionKind.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
export type RevisionListQuery = z.infer<typeof RevisionListQuery>;

/** What started a sync (`editor`: the web editor, before and after it pushes). */
export const SyncReason = z.enum(['startup', 'poll', 'webhook', 'manual', 'api', 'editor']);
export type SyncReason = z.infer<typeof SyncReason>;

/** What one sync found. */
export const SyncResult = z.object({
  reason: SyncReason,
  /** The branch head after the fetch. */
  headSha: z.string(),
  /** Revisions recorded by this sync (the new branch head and automatic previews). */
  newRevisions: z.array(Revision),
  /** Set when the branch head is not a descendant of the followed commit. */
  forcePush: z.object({ from: z.string(), to: z.string(), followed: z.boolean() }).nullable(),
  repository: Repository,
});
export type SyncResult = z.infer<typeof SyncResult>;

/** `POST /api/v1/previews`. */
export const CreatePreviewRequest = z.object({ ref: RefName }).strict();
export type CreatePreviewRequest = z.infer<typeof CreatePreviewRequest>;

export const CreatePreviewResponse = z.object({
  revision: Revision,
  /** False when this ref at this commit had been previewed already. */
  created: z.boolean(),
});
export type CreatePreviewResponse = z.infer<typeof CreatePreviewResponse>;

/** The answer to a GitHub webhook delivery. */
export const WebhookAnswer = z.object({
  accepted: z.boolean(),
  event: z.string(),
});
export type WebhookAnswer = z.infer<typeof WebhookAnswer>;

/** `GET /api/v1/webhook`: where GitHub delivers, and whether deliveries can be checked. */
export const WebhookInfo = z.object({
  /** The path of the webhook on this controller (prefix the public URL). */
  path: z.string(),
  /** A webhook secret is configured; without one every delivery is refused. */
  secretConfigured: z.boolean(),
});
export type WebhookInfo = z.infer<typeof WebhookInfo>;
