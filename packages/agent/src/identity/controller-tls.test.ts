import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { controllerTlsOptions, pinMismatch } from './controller-tls.js';

/** A self-signed EC certificate (openssl req -x509 -newkey ec, prime256v1), as PEM. */
const CERT = `-----BEGIN CERTIFICATE-----
MIIBiDCCAS2gAwIBAgIUY9RkbKLLyxdpXWSjAiJ6Oo5v83IwCgYIKoZIzj0EAwIw
GDEWMBQGA1UEAwwNZmxvdGlsbGEtdGVzdDAgFw0yNjEyMDExMTUzNTlaGA8yMTI2
MTEwNzExNTM1OVowGDEWMBQGA1UEAwwNZmxvdGlsbGEtdGVzdDBZMBMGByqGSM49
AgEGCCqGSM49AwEHA0IABFiTQPmfVlqpeKGPfeOcjEHJkryFYdj8UuNN/0HkTtOQ
n2r1YzWYMx+hENh1EFqw5rWJZCu29Kjhk0j6NOFEhs2jUzBRMB0GA1UdDgQWBBQP
AcgUHzOIHxDZd21fRT3GoLFaYjAfBgNVHSMEGDAWgBQPAcgUHzOIHxDZd21fRT3G
oLFaYjAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQCm3slqFeYF
nf68ZLzIsQanoY95aMFFALcvATtgPoCp7AIhAOOKB9qM4BHvdDBfd+O8HiH6kj8q
tQ3kuoiZs/85ysjn
-----END CERTIFICATE-----`;

/** The certificate as the TLS layer hands it over: DER. */
function certificateDer(): Buffer {
  return new X509Certificate(CERT).raw;
}

describe('controller TLS', () => {
  it('accepts the pinned public key (SHA-256 of its SPKI) and names the one it got otherwise', () => {
    const raw = certificateDer();
    const spki = new X509Certificate(raw).publicKey.export({ type: 'spki', format: 'der' });
    const pin = `sha256//${createHash('sha256').update(spki).digest('base64')}`;
    assert.equal(pinMismatch(pin, { raw }), undefined);
    const other = `sha256//${'A'.repeat(43)}=`;
    assert.match(
      pinMismatch(other, { raw })?.message ?? '',
      new RegExp(`is ${escape(pin)}, not the pinned`),
    );
    assert.match(pinMismatch(pin, { raw: Buffer.from('junk') })?.message ?? '', /cannot be read/);
  });

  it('uses the system CAs unless a CA file or pin is configured', () => {
    assert.deepEqual(controllerTlsOptions({ ca: null, caFile: null, pin: null }), {});
    const options = controllerTlsOptions({
      ca: 'PEM',
      caFile: '/ca.pem',
      pin: `sha256//${'A'.repeat(43)}=`,
    });
    assert.equal(options.ca, 'PEM');
    assert.equal(typeof options.checkServerIdentity, 'function');
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
