/**
 * Names the binary cache accepts. Nix's base32 alphabet has no e, o, u or t, so a name
 * that matches these patterns can never contain `/`, `..` or anything else that could
 * leave the cache directory.
 */
const NIX_BASE32 = '[0-9a-df-np-sv-z]';

/** The 32-character hash part of a store path (160 bits in Nix base32). */
const STORE_HASH = new RegExp(`^${NIX_BASE32}{32}$`);

/** `<filehash>.nar[.compression]`: the file hash is a SHA-256 in Nix base32 (52 characters). */
const NAR_FILE = new RegExp(`^${NIX_BASE32}{52}\\.nar(\\.(xz|zst|bz2|br|lz4|gz))?$`);

const STORE_PATH = new RegExp(`^/nix/store/(${NIX_BASE32}{32})-[A-Za-z0-9+\\-._?=]+$`);

/** True for a store hash such as `zr2knphxg8yyy2mkq8akf2hfknjvdiz7`. */
export function isStoreHash(value: string): boolean {
  return STORE_HASH.test(value);
}

/** True for a NAR file name such as `0qk0…azdj.nar.zst` (no directory part). */
export function isNarFileName(value: string): boolean {
  return NAR_FILE.test(value);
}

/** The hash part of a store path, or undefined when `path` is not a store path. */
export function storeHashOf(path: string): string | undefined {
  return STORE_PATH.exec(path)?.[1];
}

/** What a request for `/cache/<name>` asks for. */
export type CacheFileRequest =
  | { kind: 'narinfo'; storeHash: string }
  | { kind: 'invalid'; reason: string }
  | { kind: 'unknown' };

/**
 * Classifies a top-level cache file name. A `.narinfo` name with a malformed hash is
 * invalid (400); any other name (`.ls` listings, logs) is simply not served (404).
 */
export function parseCacheFileName(name: string): CacheFileRequest {
  if (!name.endsWith('.narinfo')) return { kind: 'unknown' };
  const storeHash = name.slice(0, -'.narinfo'.length);
  if (!isStoreHash(storeHash)) {
    return { kind: 'invalid', reason: 'a narinfo name must be a 32-character Nix base32 hash' };
  }
  return { kind: 'narinfo', storeHash };
}
