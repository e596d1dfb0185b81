import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { processRunner } from './index.js';

describe('ChildProcessRunner', () => {
  it('keeps a character whose bytes arrive in two chunks of stdout', async () => {
    // "ü" is 0xC3 0xBC in UTF-8; the child writes the halves apart, so they reach the
    // parent as separate chunks.
    const script =
      'process.stdout.write(Buffer.from([0x61, 0xc3]));' +
      'setTimeout(() => process.stdout.write(Buffer.from([0xbc, 0x62])), 100);';
    const result = await processRunner.run(process.execPath, ['-e', script], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      captureStdout: true,
      timeoutMs: 10_000,
    });
    assert.equal(result.exitCode, 0);
    assert.equal(result.stdout, 'aüb');
  });
});
