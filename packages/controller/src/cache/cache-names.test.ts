import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isNarFileName, isStoreHash, parseCacheFileName, storeHashOf } from './cache-names.js';

const HASH = 'zr2knphxg8yyy2mkq8akf2hfknjvdiz7';
const FILE_HASH = '0qk0rv9dk5vfdxb91cq2298y6g818wmqi9xvnnnppqw5iba8azdj';

describe('cache names', () => {
  it('accepts Nix base32 store hashes of 32 characters only', () => {
    assert.equal(isStoreHash(HASH), true);
    assert.equal(isStoreHash(HASH.slice(1)), false);
    assert.equal(isStoreHash(`${HASH}a`), false);
    // e, o, u and t are not in Nix's alphabet; upper case is not either.
    assert.equal(isStoreHash(`e${HASH.slice(1)}`), false);
    assert.equal(isStoreHash(`t${HASH.slice(1)}`), false);
    assert.equal(isStoreHash(HASH.toUpperCase()), false);
    assert.equal(isStoreHash(`../${HASH.slice(3)}`), false);
  });

  it('accepts NAR file names with known compressions and nothing with a path in it', () => {
    assert.equal(isNarFileName(`${FILE_HASH}.nar`), true);
    assert.equal(isNarFileName(`${FILE_HASH}.nar.zst`), true);
    assert.equal(isNarFileName(`${FILE_HASH}.nar.xz`), true);
    assert.equal(isNarFileName(`${FILE_HASH}.nar.gzip`), false);
    assert.equal(isNarFileName(`${FILE_HASH}.narinfo`), false);
    assert.equal(isNarFileName(`../${FILE_HASH}.nar`), false);
    assert.equal(isNarFileName(`nar/${FILE_HASH}.nar`), false);
    assert.equal(isNarFileName(`${FILE_HASH.slice(1)}.nar`), false);
    assert.equal(isNarFileName('..'), false);
    assert.equal(isNarFileName(''), false);
  });

  it('takes the hash out of a store path', () => {
    assert.equal(storeHashOf(`/nix/store/${HASH}-nixos-system-h1-1`), HASH);
    assert.equal(storeHashOf(`/nix/store/${HASH}`), undefined);
    assert.equal(storeHashOf(`/nix/store/${HASH}-x/bin`), undefined);
    assert.equal(storeHashOf(`/tmp/${HASH}-x`), undefined);
  });

  it('classifies cache file names', () => {
    assert.deepEqual(parseCacheFileName(`${HASH}.narinfo`), { kind: 'narinfo', storeHash: HASH });
    assert.equal(parseCacheFileName('nix-cache-info.narinfo').kind, 'invalid');
    assert.equal(parseCacheFileName(`${HASH.toUpperCase()}.narinfo`).kind, 'invalid');
    assert.equal(parseCacheFileName(`${HASH}.ls`).kind, 'unknown');
    assert.equal(parseCacheFileName('index.html').kind, 'unknown');
  });
});
