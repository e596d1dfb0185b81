import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import { importAgentKey, keyFingerprint, verifyAgentSignature } from './agent-signature.js';

describe('agent signatures', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'jwk' }).x ?? '';
  const signature = (text: string) =>
    sign(null, Buffer.from(text), privateKey).toString('base64url');

  it('names a key like OpenSSH: SHA256 and unpadded base64 of the raw key', () => {
    const expected = createHash('sha256').update(Buffer.from(raw, 'base64url')).digest('base64');
    assert.equal(keyFingerprint(raw), `SHA256:${expected.slice(0, -1)}`);
    assert.match(keyFingerprint(raw), /^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it('verifies the key holder’s signature of exactly the payload', () => {
    assert.equal(verifyAgentSignature(raw, 'payload', signature('payload')), true);
    assert.equal(verifyAgentSignature(raw, 'payload!', signature('payload')), false);
    const other = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x ?? '';
    assert.equal(verifyAgentSignature(other, 'payload', signature('payload')), false);
  });

  it('never throws on garbage: short keys, short signatures, not base64', () => {
    assert.equal(verifyAgentSignature('AAAA', 'payload', signature('payload')), false);
    assert.equal(verifyAgentSignature(raw, 'payload', 'AAAA'), false);
    assert.equal(verifyAgentSignature(raw, 'payload', '!'.repeat(86)), false);
    assert.throws(() => importAgentKey('AAAA'), /32 bytes/);
  });
});
