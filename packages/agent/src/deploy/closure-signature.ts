import { createPublicKey, verify } from 'node:crypto';

/**
 * Checks Nix binary cache signatures in the agent itself. Nix treats content-addressed
 * paths as "self-authenticating" and copies them without any signature, even with
 * `require-sigs` (Nix 2.8: `ValidPathInfo::checkSignatures` returns early for them; checked
 * here with an unsigned `builtins.toFile` path). That is right for a dependency, whose
 * name a signed path fixes, but not for the system the controller names: whoever controls
 * the request could name a content-addressed path of their own making. So the agent
 * requires one of its own keys' signatures on that path, checked with the narinfo
 * signature scheme (ed25519 over `1;<path>;<narHash>;<narSize>;<references>`).
 */

/** What the signature covers, as `nix path-info --json --sigs` reports it. */
export interface PathInfo {
  path: string;
  /** `sha256:<nix base32>`, as signed. */
  narHash: string;
  narSize: number;
  /** Full store paths. */
  references: string[];
  signatures: string[];
}

/** Nix's base32 alphabet (no e, o, u, t). */
const NIX32 = '0123456789abcdfghijklmnpqrsvwxyz';

/** Nix's base32 encoding of a hash, as in store paths and narinfo files. */
export function nix32(bytes: Uint8Array): string {
  const length = Math.ceil((bytes.length * 8) / 5);
  let out = '';
  for (let n = length - 1; n >= 0; n--) {
    const bit = n * 5;
    const i = bit >> 3;
    const j = bit & 7;
    const low = (bytes[i] ?? 0) >> j;
    const high = i + 1 < bytes.length ? (bytes[i + 1] ?? 0) << (8 - j) : 0;
    out += NIX32[(low | high) & 0x1f];
  }
  return out;
}

/**
 * A NAR hash in the form signatures cover (`sha256:<nix32>`), from any form `nix path-info`
 * prints: that one (older Nix), SRI `sha256-<base64>` (Nix 2.8's JSON, newer Nix) or hex.
 */
export function signedNarHash(hash: string): string | null {
  const sri = /^sha256-([A-Za-z0-9+/]{43}=)$/.exec(hash);
  if (sri?.[1]) return `sha256:${nix32(Buffer.from(sri[1], 'base64'))}`;
  const hex = /^sha256:([0-9a-f]{64})$/.exec(hash);
  if (hex?.[1]) return `sha256:${nix32(Buffer.from(hex[1], 'hex'))}`;
  if (/^sha256:[0-9a-df-np-sv-z]{52}$/.test(hash)) return hash;
  return null;
}

/**
 * The entries of `nix path-info --json` output by path: it prints an array of objects with
 * a `path` (Nix 2.8 to 2.18) or an object keyed by path (2.19 and later). Empty when the
 * text is not understood.
 */
export function pathInfoEntries(json: string): Map<string, Record<string, unknown>> {
  const entries = new Map<string, Record<string, unknown>>();
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    return entries;
  }
  const pairs: [unknown, unknown][] = Array.isArray(data)
    ? data.map((item) => [(item as { path?: unknown } | null)?.path, item])
    : typeof data === 'object' && data !== null
      ? Object.entries(data)
      : [];
  for (const [path, entry] of pairs) {
    if (typeof path === 'string' && typeof entry === 'object' && entry !== null) {
      entries.set(path, entry as Record<string, unknown>);
    }
  }
  return entries;
}

/** The entry for `storePath` in `nix path-info --json` output; null when absent or not understood. */
export function parsePathInfo(json: string, storePath: string): PathInfo | null {
  const entry = pathInfoEntries(json).get(storePath);
  if (entry === undefined) return null;
  const { narHash, narSize, references, signatures } = entry;
  const hash = typeof narHash === 'string' ? signedNarHash(narHash) : null;
  if (hash === null || typeof narSize !== 'number') return null;
  const storeDir = storePath.slice(0, storePath.lastIndexOf('/'));
  const refs = Array.isArray(references) ? references.filter((r) => typeof r === 'string') : [];
  return {
    path: storePath,
    narHash: hash,
    narSize,
    references: refs.map((ref) => (ref.startsWith('/') ? ref : `${storeDir}/${ref}`)).sort(),
    signatures: Array.isArray(signatures)
      ? signatures.filter((sig): sig is string => typeof sig === 'string')
      : [],
  };
}

/** The text a narinfo signature signs. */
export function signatureFingerprint(info: PathInfo): string {
  return `1;${info.path};${info.narHash};${info.narSize};${info.references.join(',')}`;
}

/** The names of the trusted keys (`name:base64`) with a valid signature on the path. */
export function trustedSigners(info: PathInfo, trustedKeys: readonly string[]): string[] {
  const message = Buffer.from(signatureFingerprint(info), 'utf8');
  const signers: string[] = [];
  for (const trusted of trustedKeys) {
    const [name, keyBase64] = splitNamed(trusted);
    if (name === null || keyBase64 === null) continue;
    const raw = Buffer.from(keyBase64, 'base64');
    if (raw.length !== 32) continue;
    const key = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
      format: 'jwk',
    });
    const signed = info.signatures.some((signature) => {
      const [signer, sigBase64] = splitNamed(signature);
      if (signer !== name || sigBase64 === null) return false;
      const bytes = Buffer.from(sigBase64, 'base64');
      return bytes.length === 64 && verify(null, message, key, bytes);
    });
    if (signed) signers.push(name);
  }
  return signers;
}

function splitNamed(value: string): [string | null, string | null] {
  const colon = value.indexOf(':');
  if (colon <= 0) return [null, null];
  return [value.slice(0, colon), value.slice(colon + 1)];
}
