import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TrustedProxies } from './trusted-proxies.js';

describe('TrustedProxies', () => {
  it('believes X-Forwarded-For from configured proxies only', () => {
    const proxies = new TrustedProxies(['172.18.0.2', '10.0.0.0/8', 'fd00::/8']);
    assert.equal(proxies.clientAddress('172.18.0.2', '203.0.113.7'), '203.0.113.7');
    assert.equal(proxies.clientAddress('::ffff:172.18.0.2', '203.0.113.7'), '203.0.113.7');
    assert.equal(proxies.clientAddress('fd00::5', '2001:db8::1'), '2001:db8::1');
    // A client that sends the header itself is not a proxy: the header is ignored.
    assert.equal(proxies.clientAddress('203.0.113.9', '127.0.0.1'), '203.0.113.9');
  });

  it('walks back through trusted hops only, so a forged first hop is not believed', () => {
    const proxies = new TrustedProxies(['10.0.0.0/8']);
    // The client forged "1.2.3.4"; the proxy appended the address it saw.
    assert.equal(proxies.clientAddress('10.0.0.1', '1.2.3.4, 203.0.113.7'), '203.0.113.7');
    assert.equal(
      proxies.clientAddress('10.0.0.1', ['1.2.3.4', '10.0.0.9, 203.0.113.7']),
      '203.0.113.7',
    );
    assert.equal(proxies.clientAddress('10.0.0.1', '10.0.0.2, 10.0.0.3'), '10.0.0.2');
    assert.equal(proxies.clientAddress('10.0.0.1', 'not-an-ip'), '10.0.0.1');
  });

  it('trusts nobody by default and refuses entries that are not addresses', () => {
    assert.equal(new TrustedProxies([]).clientAddress('127.0.0.1', '203.0.113.7'), '127.0.0.1');
    assert.throws(() => new TrustedProxies(['traefik']), /not an IP address or CIDR range/);
    assert.throws(() => new TrustedProxies(['10.0.0.0/33']), /not an IP address/);
  });
});
