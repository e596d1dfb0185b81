import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { roleAllows } from './role.js';

describe('roleAllows', () => {
  it('lets each role do what the roles before it may, and no more', () => {
    assert.equal(roleAllows('viewer', 'viewer'), true);
    assert.equal(roleAllows('viewer', 'operator'), false);
    assert.equal(roleAllows('operator', 'operator'), true);
    assert.equal(roleAllows('operator', 'admin'), false);
    assert.equal(roleAllows('admin', 'operator'), true);
  });
});
