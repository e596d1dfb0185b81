import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FlotillaError } from '@flotilla/protocol';
import type { RunResult } from '@flotilla/runtime';
import { NIX_2_8 } from './nix-error.fixtures.js';
import { evaluateFlakeHosts, mapBounded, type NixCommand } from './nix-evaluation.js';

const URL = 'git+file:///state/mirrors/default.git?ref=refs%2Fheads%2Fmain&rev=abc';
const SOURCE = '/nix/store/ffg59zcx6nf9ynnx2nlwibrf5h8anb12-source';
const HOSTS = ['gpc0', 'gpc1', 'rpi0', 'rpi1', 'srv0', 'srv1'];
const OPTIONS = { timeoutMs: 60_000, hostTimeoutMs: 5_000, concurrency: 2 };

const drvOf = (host: string) => `/nix/store/${'a'.repeat(32)}-nixos-system-${host}-1.drv`;
const outOf = (name: string) => `/nix/store/${'b'.repeat(32)}-${name}`;

function ran(fields: Partial<RunResult>): RunResult {
  return {
    exitCode: 0,
    signal: null,
    spawnError: null,
    timedOut: false,
    aborted: false,
    stdout: '',
    stdoutTruncated: false,
    stderr: '',
    stderrTail: [],
    ...fields,
  };
}

/** What one scripted `nix eval` call answers: by kind of call and, for a host call, host. */
interface Script {
  combined: RunResult;
  names?: RunResult;
  /** The outputs' own call (after the one call failed as a whole). */
  outputs?: RunResult;
  host?: (host: string) => RunResult;
}

/**
 * A NixCommand that answers from a script of recorded results, records every call and
 * the most calls it saw running at once (each call yields to the event loop a few times,
 * so calls started together overlap).
 */
function scripted(script: Script) {
  const calls: {
    kind: 'combined' | 'names' | 'outputs' | 'host';
    host?: string;
    timeoutMs: number;
  }[] = [];
  let running = 0;
  let maxRunning = 0;
  const nix: NixCommand = async (args, timeoutMs) => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    running--;
    const expression = args.at(-1) ?? '';
    if (args.includes('--raw')) {
      const host = /nixosConfigurations\."([^"]+)"/.exec(expression)?.[1] ?? '';
      calls.push({ kind: 'host', host, timeoutMs });
      return script.host?.(host) ?? ran({ exitCode: 1, stderr: 'error: unscripted' });
    }
    if (expression.includes('drvOf')) {
      calls.push({ kind: 'combined', timeoutMs });
      return script.combined;
    }
    if (expression.includes('outOf')) {
      calls.push({ kind: 'outputs', timeoutMs });
      return script.outputs ?? ran({ exitCode: 1, stderr: 'error: unscripted' });
    }
    calls.push({ kind: 'names', timeoutMs });
    return script.names ?? ran({ exitCode: 1, stderr: 'error: unscripted' });
  };
  return { nix, calls, maxRunning: () => maxRunning };
}

/** The combined call's failure in the sandbox flake with hosts/gpc0.nix broken (recorded). */
const combinedFails = ran({ exitCode: 1, stdout: '{"nixos":{"gpc0":', stderr: NIX_2_8.syntax });
const listing = ran({
  stdout: JSON.stringify({ source: SOURCE, nixos: HOSTS, darwin: ['imac0'], home: ['mba@mbp'] }),
});

describe('evaluateFlakeHosts', () => {
  it('uses the one call when it succeeds: no host calls', async () => {
    const nixos = Object.fromEntries(HOSTS.map((h) => [h, { drv: drvOf(h) }]));
    const outputs = {
      nixos: { gpc0: outOf('nixos-system-gpc0'), srv1: null },
      darwin: { imac0: outOf('darwin-system-imac0'), odd: '/etc/passwd' },
      home: { 'mba@mbp': outOf('home-manager-generation') },
    };
    const { nix, calls } = scripted({
      combined: ran({
        stdout: JSON.stringify({ source: SOURCE, nixos, darwin: [], home: [], outputs }),
      }),
    });
    const result = await evaluateFlakeHosts(nix, URL, OPTIONS);
    assert.deepEqual(
      calls.map((c) => c.kind),
      ['combined'],
    );
    // Outputs that did not evaluate (null) or are not store paths are left out.
    assert.deepEqual(result.outputs, {
      nixos: { gpc0: outOf('nixos-system-gpc0') },
      darwin: { imac0: outOf('darwin-system-imac0') },
      home: { 'mba@mbp': outOf('home-manager-generation') },
    });
    assert.equal(result.evaluatedPerHost, false);
    assert.deepEqual(Object.keys(result.nixos), HOSTS);
    assert.deepEqual(result.hostErrors, {});
  });

  it('asks for the error of a host that threw inside the one call', async () => {
    const nixos = { gpc0: { failed: true }, gpc1: { drv: drvOf('gpc1') } };
    const { nix, calls } = scripted({
      combined: ran({ stdout: JSON.stringify({ source: SOURCE, nixos, darwin: [], home: [] }) }),
      host: () => ran({ exitCode: 1, stderr: NIX_2_8.throw }),
    });
    const result = await evaluateFlakeHosts(nix, URL, OPTIONS);
    assert.deepEqual(
      calls.map((c) => c.host ?? c.kind),
      ['combined', 'gpc0'],
    );
    assert.deepEqual(result.nixos, { gpc1: drvOf('gpc1') });
    assert.deepEqual(result.hostErrorDetails, {
      gpc0: { message: 'gpc0 is retired', location: null },
    });
    assert.equal(result.evaluatedPerHost, false);
  });

  it('goes host by host when one file breaks the one call; the others evaluate', async () => {
    const { nix, calls, maxRunning } = scripted({
      combined: combinedFails,
      names: listing,
      outputs: ran({
        stdout: JSON.stringify({ nixos: {}, darwin: { imac0: outOf('darwin-system') }, home: {} }),
      }),
      host: (host) =>
        host === 'gpc0'
          ? ran({ exitCode: 1, stderr: NIX_2_8.syntax })
          : ran({ stdout: drvOf(host) }),
    });
    const result = await evaluateFlakeHosts(nix, URL, OPTIONS);
    assert.equal(result.evaluatedPerHost, true);
    assert.deepEqual(
      Object.keys(result.nixos),
      HOSTS.filter((h) => h !== 'gpc0'),
    );
    assert.equal(result.nixos.srv1, drvOf('srv1'));
    assert.match(result.hostErrors.gpc0 ?? '', /^error: syntax error/);
    assert.deepEqual(result.hostErrorDetails.gpc0, {
      message: "syntax error, unexpected end of file, expecting ';'",
      location: { file: 'hosts/gpc0.nix', line: 1, column: 30 },
    });
    assert.deepEqual(result.darwin, ['imac0']);
    assert.deepEqual(result.home, ['mba@mbp']);
    assert.deepEqual(result.outputs?.darwin, { imac0: outOf('darwin-system') });
    const hostCalls = calls.filter((c) => c.kind === 'host');
    assert.deepEqual(hostCalls.map((c) => c.host).sort(), HOSTS);
    assert.ok(hostCalls.every((c) => c.timeoutMs === OPTIONS.hostTimeoutMs));
    assert.equal(maxRunning(), 2, 'two host calls at a time, never more');
  });

  it('fails the revision with the flake error when even the names cannot be listed', async () => {
    const { nix, calls } = scripted({
      combined: ran({ exitCode: 1, stderr: NIX_2_8.flakeBroken }),
      names: ran({ exitCode: 1, stderr: NIX_2_8.flakeBroken }),
    });
    await assert.rejects(evaluateFlakeHosts(nix, URL, OPTIONS), (error: unknown) => {
      assert.ok(error instanceof FlotillaError);
      assert.equal(error.code, 'evaluation_failed');
      assert.match(error.message, /^error: syntax error, unexpected ';'/);
      assert.match(error.message, /flake\.nix:2:17/);
      return true;
    });
    assert.deepEqual(
      calls.map((c) => c.kind),
      ['combined', 'names'],
    );
  });

  it('gives a host that runs out of time an error of its own', async () => {
    const { nix } = scripted({
      combined: combinedFails,
      names: listing,
      host: (host) =>
        host === 'rpi1'
          ? ran({ exitCode: null, signal: 'SIGKILL', timedOut: true })
          : host === 'gpc0'
            ? ran({ exitCode: 1, stderr: NIX_2_8.syntax })
            : ran({ stdout: drvOf(host) }),
    });
    const result = await evaluateFlakeHosts(nix, URL, OPTIONS);
    assert.deepEqual(Object.keys(result.hostErrors).sort(), ['gpc0', 'rpi1']);
    assert.equal(
      result.hostErrorDetails.rpi1?.message,
      'evaluating rpi1 timed out after 5 s and was stopped',
    );
    assert.equal(Object.keys(result.nixos).length, 4);
  });

  it('does not go host by host after the one call ran out of time', async () => {
    const { nix, calls } = scripted({
      combined: ran({ exitCode: null, timedOut: true }),
      names: listing,
    });
    await assert.rejects(evaluateFlakeHosts(nix, URL, OPTIONS), /evaluation timed out after 60 s/);
    assert.equal(calls.length, 1);
  });
});

describe('mapBounded', () => {
  it('keeps the order of its input and runs nothing for an empty one', async () => {
    assert.deepEqual(await mapBounded([3, 1, 2], 2, (n) => Promise.resolve(n * 10)), [30, 10, 20]);
    assert.deepEqual(await mapBounded([], 2, () => Promise.resolve(1)), []);
  });
});
