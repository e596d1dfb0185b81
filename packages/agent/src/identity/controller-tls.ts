import { createHash, X509Certificate } from 'node:crypto';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import type { ControllerTls } from '../config.js';

/** What node:https and ws take to check the controller's certificate the agent's own way. */
export interface TlsOptions {
  ca?: string;
  checkServerIdentity?: (hostname: string, cert: PeerCertificate) => Error | undefined;
}

/**
 * TLS options for every connection to the controller (the WebSocket and the enrollment):
 * the configured CA instead of the system's, and a pin of the certificate's public key
 * checked after the usual host name check. Nothing set: the system's CAs, as usual.
 */
export function controllerTlsOptions(tls: ControllerTls): TlsOptions {
  const options: TlsOptions = {};
  if (tls.ca !== null) options.ca = tls.ca;
  const pin = tls.pin;
  if (pin !== null) {
    options.checkServerIdentity = (hostname, cert) => {
      const usual = checkServerIdentity(hostname, cert);
      if (usual) return usual;
      return pinMismatch(pin, cert);
    };
  }
  return options;
}

/**
 * An error when the certificate's public key is not the pinned one; undefined when it is.
 * The pin covers the DER SubjectPublicKeyInfo, as curl's `--pinnedpubkey` does (node's own
 * `pubkey` field is only the bare key for EC certificates, so it is read from the DER).
 */
export function pinMismatch(pin: string, cert: { raw: Uint8Array }): Error | undefined {
  let spki: Buffer;
  try {
    spki = new X509Certificate(cert.raw).publicKey.export({ type: 'spki', format: 'der' });
  } catch {
    return new Error('the controller certificate cannot be read to check its pin');
  }
  const actual = `sha256//${createHash('sha256').update(spki).digest('base64')}`;
  if (actual === pin) return undefined;
  return new Error(`the controller certificate's public key is ${actual}, not the pinned ${pin}`);
}
