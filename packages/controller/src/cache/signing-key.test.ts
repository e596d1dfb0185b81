import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadOrCreateSigningKey } from './signing-key.js';

test('the public key is derived from the secret key file as Nix derives it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-signing-key-'));
  try {
    const pair = generateKeyPairSync('ed25519');
    const seed = Buffer.from(pair.privateKey.export({ format: 'jwk' }).d ?? '', 'base64url');
    const publicBytes = Buffer.from(pair.publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
    // Nix's secret key: name, then libsodium's 64-byte secret key (seed, then public key).
    const secret = `fleet-1:${Buffer.concat([seed, publicBytes]).toString('base64')}`;
    await writeFile(join(dir, 'signing-key.sec'), `${secret}\n`, { mode: 0o600 });
    const key = await loadOrCreateSigningKey({ dir, keyName: 'fleet-1', env: {} });
    assert.equal(key.publicKey, `fleet-1:${publicBytes.toString('base64')}`);
    assert.equal(key.created, false);
    assert.equal((await readFile(join(dir, 'signing-key.pub'), 'utf8')).trim(), key.publicKey);
    await writeFile(join(dir, 'signing-key.sec'), 'fleet-1:c2hvcnQ=\n');
    await assert.rejects(loadOrCreateSigningKey({ dir, keyName: 'fleet-1', env: {} }), /64 bytes/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
