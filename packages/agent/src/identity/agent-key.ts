import {
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  sign,
  type KeyObject,
} from 'node:crypto';

/**
 * The agent's own Ed25519 key: made on the host, kept in the state directory (PEM, mode
 * 0600) and never sent anywhere. The controller knows only its public half.
 */
export class AgentKey {
  /** The 32 raw public key bytes, base64url, as the enrollment sends them. */
  readonly publicKey: string;
  /** `SHA256:<base64>` of the raw public key, as the hello names it. */
  readonly fingerprint: string;

  private constructor(private readonly privateKey: KeyObject) {
    const jwk = privateKey.export({ format: 'jwk' });
    if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || jwk.x === undefined) {
      throw new Error('the agent key is not an Ed25519 key');
    }
    this.publicKey = jwk.x;
    this.fingerprint = keyFingerprint(jwk.x);
  }

  static generate(): AgentKey {
    return new AgentKey(generateKeyPairSync('ed25519').privateKey);
  }

  /** Reads a key written by {@link toPem}; throws on anything else. */
  static fromPem(pem: string): AgentKey {
    return new AgentKey(createPrivateKey({ key: pem, format: 'pem' }));
  }

  /** PKCS#8 PEM of the private key. Secret: only ever written to a 0600 file. */
  toPem(): string {
    return this.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  }

  /** The Ed25519 signature of `payload` (UTF-8), base64url. */
  sign(payload: string): string {
    return sign(null, Buffer.from(payload, 'utf8'), this.privateKey).toString('base64url');
  }
}

/** `SHA256:` and the unpadded base64 SHA-256 of the raw key, as OpenSSH (and the controller) write it. */
export function keyFingerprint(publicKey: string): string {
  const digest = createHash('sha256').update(Buffer.from(publicKey, 'base64url')).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}
