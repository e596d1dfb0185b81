import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tokenFromAuthorization } from './cache-auth.js';

const basic = (userPass: string) => `Basic ${Buffer.from(userPass).toString('base64')}`;

describe('tokenFromAuthorization', () => {
  it('takes the password of HTTP Basic, whatever the user name', () => {
    assert.equal(tokenFromAuthorization(basic('flotilla:flta_abc')), 'flta_abc');
    assert.equal(tokenFromAuthorization(basic('h1:flta_abc')), 'flta_abc');
    assert.equal(tokenFromAuthorization(basic(':flta_abc')), 'flta_abc');
    // A colon in the password belongs to the password.
    assert.equal(tokenFromAuthorization(basic('u:a:b')), 'a:b');
  });

  it('takes a bearer token, with any case of the scheme', () => {
    assert.equal(tokenFromAuthorization('Bearer flta_abc'), 'flta_abc');
    assert.equal(tokenFromAuthorization('bearer flta_abc'), 'flta_abc');
    assert.equal(tokenFromAuthorization(`basic ${Buffer.from('u:t').toString('base64')}`), 't');
  });

  it('finds nothing in missing, empty or malformed headers', () => {
    assert.equal(tokenFromAuthorization(undefined), undefined);
    assert.equal(tokenFromAuthorization(''), undefined);
    assert.equal(tokenFromAuthorization('Bearer'), undefined);
    assert.equal(tokenFromAuthorization('Bearer a b'), undefined);
    assert.equal(tokenFromAuthorization(basic('user-without-colon')), undefined);
    assert.equal(tokenFromAuthorization(basic('user:')), undefined);
    assert.equal(tokenFromAuthorization('Basic !!!not-base64'), undefined);
    assert.equal(tokenFromAuthorization('Digest username="x"'), undefined);
  });
});
