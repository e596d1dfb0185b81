import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  nix32,
  parsePathInfo,
  signatureFingerprint,
  signedNarHash,
  trustedSigners,
} from './closure-signature.js';

const PATH = '/nix/store/2976h6pad8rqrvpc34fbym7xqppv8qbr-ca-exp2-18794';
const DEP = '/nix/store/14q8kan2bg4mr94226i4mbls91ijxgjr-ca-exp-15612';

describe('closure signatures', () => {
  it("converts NAR hashes to the form signatures cover (Nix's base32)", () => {
    // The same hash as `nix path-info --json` (SRI) and the narinfo (base32) print it on Nix 2.8.
    assert.equal(
      signedNarHash('sha256-LKC4zplvhl2zdhm/6RAjVZMFqtgVgEL8bdsO8dQ8W2c='),
      'sha256:0rsv7kag23nvdpy4500mv2m0b4sm4c8fkgqrfsrmv1kgk77bi81c',
    );
    assert.equal(
      signedNarHash('sha256:0rsv7kag23nvdpy4500mv2m0b4sm4c8fkgqrfsrmv1kgk77bi81c'),
      'sha256:0rsv7kag23nvdpy4500mv2m0b4sm4c8fkgqrfsrmv1kgk77bi81c',
    );
    const hex = Buffer.from('LKC4zplvhl2zdhm/6RAjVZMFqtgVgEL8bdsO8dQ8W2c=', 'base64').toString(
      'hex',
    );
    assert.equal(
      signedNarHash(`sha256:${hex}`),
      signedNarHash(`sha256-${Buffer.from(hex, 'hex').toString('base64')}`),
    );
    assert.equal(signedNarHash('md5:abc'), null);
    assert.equal(nix32(Buffer.alloc(0)), '');
  });

  it('reads path-info from Nix 2.8 (an array) and 2.19+ (an object by path)', () => {
    const entry = {
      narHash: 'sha256-LKC4zplvhl2zdhm/6RAjVZMFqtgVgEL8bdsO8dQ8W2c=',
      narSize: 120,
      references: [PATH, DEP],
      signatures: ['a-1:x'],
    };
    const old = parsePathInfo(JSON.stringify([{ path: PATH, ...entry }]), PATH);
    const current = parsePathInfo(
      JSON.stringify({ [PATH]: { ...entry, references: [DEP.slice(11), PATH.slice(11)] } }),
      PATH,
    );
    assert.deepEqual(old, current);
    assert.deepEqual(old?.references, [DEP, PATH], 'full paths, sorted');
    assert.equal(
      old && signatureFingerprint(old),
      `1;${PATH};sha256:0rsv7kag23nvdpy4500mv2m0b4sm4c8fkgqrfsrmv1kgk77bi81c;120;${DEP},${PATH}`,
    );
    assert.equal(parsePathInfo('[]', PATH), null);
    assert.equal(parsePathInfo('not json', PATH), null);
  });

  it('verifies a signature Nix made (nix store sign, Nix 2.8)', () => {
    const info = parsePathInfo(
      JSON.stringify([
        {
          path: PATH,
          narHash: 'sha256-LKC4zplvhl2zdhm/6RAjVZMFqtgVgEL8bdsO8dQ8W2c=',
          narSize: 120,
          references: [],
          ca: 'text:sha256:10a83a91g1r50bdw8g4hn47m7j7m6angpabwc80l9c16nx11cw9d',
          signatures: [
            'other-1:khv8mlo301fCSP4mUreos8vIpX9RYy/nOYCAlM+mC9GEBLO46BlqVs7kDJa299iXCozrcr8/nA9CHW47ozuLDg==',
          ],
        },
      ]),
      PATH,
    );
    assert.ok(info);
    const key = 'other-1:4m+tjICG740aNxs+Bn2N30aupAxvucXcTEaonyoegHs=';
    assert.deepEqual(trustedSigners(info, [key]), ['other-1']);
    // The same signature under another key name, or another key under the same name: no.
    assert.deepEqual(
      trustedSigners(info, ['else-1:4m+tjICG740aNxs+Bn2N30aupAxvucXcTEaonyoegHs=']),
      [],
    );
    const { publicKey } = generateKeyPairSync('ed25519');
    const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
    assert.deepEqual(trustedSigners(info, [`other-1:${raw.toString('base64')}`]), []);
  });

  it('refuses a signature over other content', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
    const trusted = `fleet-1:${raw.toString('base64')}`;
    const info = {
      path: PATH,
      narHash: 'sha256:0rsv7kag23nvdpy4500mv2m0b4sm4c8fkgqrfsrmv1kgk77bi81c',
      narSize: 120,
      references: [],
      signatures: [] as string[],
    };
    const signed = (text: string) =>
      `fleet-1:${sign(null, Buffer.from(text), privateKey).toString('base64')}`;
    assert.deepEqual(
      trustedSigners({ ...info, signatures: [signed(signatureFingerprint(info))] }, [trusted]),
      ['fleet-1'],
    );
    const otherSize = signed(signatureFingerprint({ ...info, narSize: 121 }));
    assert.deepEqual(trustedSigners({ ...info, signatures: [otherSize] }, [trusted]), []);
  });
});
