import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';

/**
 * Agent keys as the controller handles them: Ed25519 public keys sent as their 32 raw bytes
 * in base64url. The controller only ever verifies; agents sign (packages/agent).
 */

/** The key's fingerprint as OpenSSH prints it: `SHA256:` and the unpadded base64 of its SHA-256. */
export function keyFingerprint(publicKey: string): string {
  const digest = createHash('sha256').update(Buffer.from(publicKey, 'base64url')).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}

/** The key as a node:crypto key; throws when the bytes are not an Ed25519 public key. */
export function importAgentKey(publicKey: string): KeyObject {
  if (Buffer.from(publicKey, 'base64url').length !== 32) {
    throw new Error('an Ed25519 public key has 32 bytes');
  }
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' });
}

/** Whether `signature` (base64url) is the key's Ed25519 signature of `payload` (UTF-8). Never throws. */
export function verifyAgentSignature(
  publicKey: string,
  payload: string,
  signature: string,
): boolean {
  try {
    const bytes = Buffer.from(signature, 'base64url');
    if (bytes.length !== 64) return false;
    return verify(null, Buffer.from(payload, 'utf8'), importAgentKey(publicKey), bytes);
  } catch {
    return false;
  }
}
