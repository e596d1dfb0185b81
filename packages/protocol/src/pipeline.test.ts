import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Evaluation } from './pipeline.js';

describe('Evaluation', () => {
  it('parses an evaluation stored before host error locations were recorded', () => {
    const stored = {
      nixos: { gpc1: '/nix/store/x-nixos-system-gpc1.drv' },
      hostErrors: { gpc0: 'error: gpc0 is retired' },
      darwin: ['imac0'],
      home: [],
    };
    const parsed = Evaluation.parse(stored);
    assert.equal(parsed.hostErrorDetails, undefined);
    assert.equal(parsed.notRebuilt, undefined);
    assert.deepEqual(parsed, stored);
  });

  it('carries each failing host’s message and location, and hosts not rebuilt', () => {
    const parsed = Evaluation.parse({
      nixos: {},
      hostErrors: { gpc0: "error: syntax error, unexpected end of file, expecting ';'" },
      hostErrorDetails: {
        gpc0: {
          message: "syntax error, unexpected end of file, expecting ';'",
          location: { file: 'hosts/gpc0.nix', line: 1, column: 30 },
        },
      },
      evaluatedPerHost: true,
      notRebuilt: { rpi0: { drvPath: '/nix/store/y.drv', failedBuildId: 'b1' } },
      darwin: [],
      home: [],
    });
    assert.equal(parsed.hostErrorDetails?.gpc0?.location?.line, 1);
    assert.equal(parsed.notRebuilt?.rpi0?.failedBuildId, 'b1');
  });

  it('rejects a location without a file', () => {
    const result = Evaluation.safeParse({
      nixos: {},
      hostErrors: {},
      hostErrorDetails: { gpc0: { message: 'x', location: { line: 1, column: 2 } } },
      darwin: [],
      home: [],
    });
    assert.equal(result.success, false);
  });
});
