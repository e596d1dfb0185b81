import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { controllerTlsOptions, pinMismatch } from './controller-tls.js';

describe('controller TLS', () => {
  const spki = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' });
  const pin = `sha256//${createHash('sha256').update(spki).digest('base64')}`;

  it('accepts the pinned public key and names the one it got otherwise', () => {
    assert.equal(pinMismatch(pin, { pubkey: spki }), undefined);
    const other = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' });
    assert.match(pinMismatch(pin, { pubkey: other })?.message ?? '', /not the pinned/);
    assert.match(pinMismatch(pin, {})?.message ?? '', /no public key/);
  });

  it('uses the system CAs unless a CA file or pin is configured', () => {
    assert.deepEqual(controllerTlsOptions({ ca: null, caFile: null, pin: null }), {});
    const options = controllerTlsOptions({ ca: 'PEM', caFile: '/ca.pem', pin });
    assert.equal(options.ca, 'PEM');
    assert.equal(typeof options.checkServerIdentity, 'function');
  });
});
