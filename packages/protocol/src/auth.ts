import * as z from 'zod';

/** Bodies of the people-and-tools API: users, sessions, API tokens, TOTP. */

/** The roles of people and tools, weakest first: each may do what the ones before it may. */
export const Role = z.enum(['viewer', 'operator', 'admin']);
export type Role = z.infer<typeof Role>;

/**
 * What an API token may do: `read` (viewer), `operate` (operator), `admin`, or `assistant`:
 * an AI assistant that pushes to the repository may read everything, request previews and
 * see logs, but never approve, deploy, roll back, reboot or change policy.
 */
export const TokenScope = z.enum(['read', 'operate', 'admin', 'assistant']);
export type TokenScope = z.infer<typeof TokenScope>;

export const Username = z
  .string()
  .min(1)
  .max(64)
  .regex(
    /^[a-z][a-z0-9._-]*$/,
    'must be lowercase letters, digits, ".", "_" or "-", starting with a letter',
  );

/** At least 12 characters: a passphrase, not a PIN. */
export const Password = z.string().min(12, 'must be at least 12 characters').max(1024);

/** A code from an authenticator app (6 digits) or a recovery code. */
export const OneTimeCode = z.string().min(6).max(64);

export const User = z.object({
  id: z.string(),
  username: z.string(),
  role: Role,
  totpEnabled: z.boolean(),
  disabled: z.boolean(),
  createdAt: z.string(),
  createdBy: z.string(),
});
export type User = z.infer<typeof User>;

export const UserList = z.object({ users: z.array(User) });
export type UserList = z.infer<typeof UserList>;

/** `POST /api/v1/users` (admin). Without a password one is generated and shown once. */
export const CreateUserRequest = z
  .object({ username: Username, role: Role, password: Password.optional() })
  .strict();
export type CreateUserRequest = z.infer<typeof CreateUserRequest>;

export const CreateUserResponse = z.object({
  user: User,
  /** The generated password, shown once; null when the request gave one. */
  password: z.string().nullable(),
});
export type CreateUserResponse = z.infer<typeof CreateUserResponse>;

/** `PATCH /api/v1/users/:username` (admin): change the role, disable, or reset the password. */
export const UpdateUserRequest = z
  .object({
    role: Role.optional(),
    disabled: z.boolean().optional(),
    /** A new generated password (shown once); the user's sessions and tokens are revoked. */
    resetPassword: z.boolean().optional(),
    /** Turn the user's TOTP off (they lost the device and their recovery codes). */
    resetTotp: z.boolean().optional(),
  })
  .strict();
export type UpdateUserRequest = z.infer<typeof UpdateUserRequest>;

/** `POST /api/v1/setup`: the first admin, with the setup token printed at first start. */
export const SetupRequest = z
  .object({ setupToken: z.string().min(1).max(200), username: Username, password: Password })
  .strict();
export type SetupRequest = z.infer<typeof SetupRequest>;

/** Credentials; `totp` when the user has TOTP on (a recovery code works too). */
export const LoginRequest = z
  .object({
    username: z.string().min(1).max(64),
    password: z.string().min(1).max(1024),
    totp: OneTimeCode.optional(),
  })
  .strict();
export type LoginRequest = z.infer<typeof LoginRequest>;

/** What a browser gets from logging in: the session is in an HttpOnly cookie. */
export const SessionAnswer = z.object({
  user: User,
  /** Send back as `X-CSRF-Token` on every request that changes something. */
  csrfToken: z.string(),
  expiresAt: z.string(),
});
export type SessionAnswer = z.infer<typeof SessionAnswer>;

export const ApiToken = z.object({
  id: z.string(),
  name: z.string(),
  scope: TokenScope,
  username: z.string(),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type ApiToken = z.infer<typeof ApiToken>;

export const ApiTokenList = z.object({ tokens: z.array(ApiToken) });
export type ApiTokenList = z.infer<typeof ApiTokenList>;

const TokenFields = {
  name: z.string().min(1).max(100),
  scope: TokenScope.optional(),
  /** Days until it stops working (default 90; at most 5 years). */
  expiresInDays: z.number().int().min(1).max(1825).optional(),
};

/** `POST /api/v1/tokens`: a new token for the caller, at most as strong as the caller. */
export const CreateTokenRequest = z.object(TokenFields).strict();
export type CreateTokenRequest = z.infer<typeof CreateTokenRequest>;

/** `POST /api/v1/auth/token`: credentials in, an API token out (`flotilla login`). */
export const TokenLoginRequest = LoginRequest.extend(TokenFields).strict();
export type TokenLoginRequest = z.infer<typeof TokenLoginRequest>;

export const CreatedToken = z.object({
  apiToken: ApiToken,
  /** The token itself, shown once; only its hash is kept. */
  token: z.string(),
});
export type CreatedToken = z.infer<typeof CreatedToken>;

/** Who is asking, and how. */
export const Me = z.object({
  user: User,
  via: z.enum(['session', 'token', 'proxy']),
  /** The token's scope when `via` is token. */
  scope: TokenScope.nullable(),
  /** The token's id when `via` is token (what `flotilla logout` revokes). */
  tokenId: z.string().nullable(),
  /** The role this request acts with (the token's scope can lower the user's role). */
  role: Role,
  /** Until when destructive actions need no fresh TOTP code (sessions only). */
  steppedUpUntil: z.string().nullable(),
});
export type Me = z.infer<typeof Me>;

export const ChangePasswordRequest = z
  .object({ current: z.string().min(1).max(1024), password: Password })
  .strict();
export type ChangePasswordRequest = z.infer<typeof ChangePasswordRequest>;

/** The start of TOTP enrollment: the secret for an authenticator app. */
export const TotpEnrollment = z.object({
  /** Base32; type it in, or use the URI (as a QR code). */
  secret: z.string(),
  uri: z.string(),
});
export type TotpEnrollment = z.infer<typeof TotpEnrollment>;

export const CodeRequest = z.object({ code: OneTimeCode }).strict();
export type CodeRequest = z.infer<typeof CodeRequest>;

/** Recovery codes, shown once: each works once instead of a TOTP code. */
export const RecoveryCodes = z.object({ codes: z.array(z.string()) });
export type RecoveryCodes = z.infer<typeof RecoveryCodes>;

export const StepUpAnswer = z.object({ steppedUpUntil: z.string() });
export type StepUpAnswer = z.infer<typeof StepUpAnswer>;

export const LoggedOut = z.object({ sessionsRevoked: z.number() });
export type LoggedOut = z.infer<typeof LoggedOut>;

/** The HTTP header that carries a TOTP code for a destructive action (step-up). */
export const STEP_UP_HEADER = 'x-flotilla-totp';
/** The HTTP header that carries the CSRF token of a browser session. */
export const CSRF_HEADER = 'x-csrf-token';
/** The name of the session cookie. */
export const SESSION_COOKIE = 'flotilla_session';
