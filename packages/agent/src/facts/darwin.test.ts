import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  availableBytes,
  generationNumber,
  parseBoottime,
  parseCount,
  parseDarwinVersionJson,
  parseMemoryPressure,
  parseNixVersion,
  parseSwVers,
  parseSysctl,
  parseVmStat,
} from './darwin.js';

/** Published output of real Macs; see fixtures/README.md for where each came from. */
const fixture = (name: string) =>
  readFileSync(new URL(`../../src/facts/fixtures/${name}`, import.meta.url), 'utf8');

describe('darwin parsers on output of real Macs', () => {
  it('reads sw_vers with tabs and with spaces', () => {
    assert.deepEqual(parseSwVers(fixture('sw_vers-10.13.txt')), {
      productName: 'Mac OS X',
      productVersion: '10.13',
      buildVersion: '17A405',
    });
    assert.deepEqual(parseSwVers(fixture('sw_vers-10.15.txt')), {
      productName: 'Mac OS X',
      productVersion: '10.15.5',
      buildVersion: '19F101',
    });
  });

  it('reads several sysctl names from one call, as sysctl prints them in order', () => {
    const output = [
      'sysctl-hw.memsize.txt',
      'sysctl-hw.ncpu.txt',
      'sysctl-kern.boottime.txt',
      'sysctl-pressure-critical.txt',
    ]
      .map(fixture)
      .join('');
    const values = parseSysctl(output);
    assert.equal(parseCount(values.get('hw.memsize')), 17_179_869_184);
    assert.equal(parseCount(values.get('hw.ncpu')), 12);
    assert.equal(parseBoottime(values.get('kern.boottime')), 1_688_981_418);
    assert.equal(
      parseMemoryPressure(values.get('kern.memorystatus_vm_pressure_level')),
      'critical',
    );
    assert.equal(values.get('hw.model'), undefined, 'a name not asked for is absent');
  });

  it('keeps braces and runs of spaces in a value, as a published `sysctl vm` prints them', () => {
    const values = parseSysctl(fixture('sysctl-vm-partial.txt'));
    assert.equal(values.size, 14, 'one value per line');
    assert.equal(values.get('vm.loadavg'), '{ 1.28 1.18 1.13 }');
    assert.equal(
      values.get('vm.swapusage'),
      'total = 2048.00M  used = 1017.50M  free = 1030.50M  (encrypted)',
    );
    assert.equal(parseCount(values.get('vm.global_user_wire_limit')), 3_006_477_107);
  });

  it('reads the boot time of an older OS X and the other pressure levels', () => {
    const boot = parseSysctl(fixture('sysctl-kern.boottime-2015.txt')).get('kern.boottime');
    assert.equal(parseBoottime(boot), 1_426_005_997);
    const normal = parseSysctl(fixture('sysctl-pressure-normal.txt'));
    assert.equal(parseMemoryPressure(normal.get('kern.memorystatus_vm_pressure_level')), 'normal');
    assert.equal(parseMemoryPressure('2'), 'warn');
    assert.equal(parseMemoryPressure('3'), null);
    assert.equal(parseCount(parseSysctl(fixture('sysctl-hw.ncpu-m1pro.txt')).get('hw.ncpu')), 10);
  });

  it('reads vm_stat: page size and the pages that can be had without paging', () => {
    const vmStat = parseVmStat(fixture('vm_stat-intel.txt'));
    assert.ok(vmStat);
    assert.equal(vmStat.pageSize, 4096);
    assert.equal(vmStat.pages.get('Pages wired down'), 715_958);
    assert.equal(vmStat.pages.get('Translation faults'), 11_477_162);
    // free 6127229 + speculative 430715 + inactive 628646 pages of 4096 bytes
    assert.equal(availableBytes(vmStat), (6_127_229 + 430_715 + 628_646) * 4096);
    assert.equal(parseVmStat('not vm_stat'), null);
  });

  it('reads the Nix version', () => {
    assert.equal(parseNixVersion(fixture('nix-version-2.8.txt')), '2.8.0');
    assert.equal(parseNixVersion('nix (Lix, like Nix) 2.91.1\n'), '2.91.1');
    assert.equal(parseNixVersion('command not found'), null);
  });

  it("reads darwin-version.json's fields and refuses what is not JSON", () => {
    // The names nix-darwin's modules/system/version.nix writes (see fixtures/README.md).
    const json = JSON.stringify({
      darwinLabel: '25.05.e95de00',
      darwinRevision: 'e95de00a471d07435e0527ff4db092c84998698e',
      nixpkgsRevision: '59b6c96beacc898566c9be1052ae806f3835f87d',
      configurationRevision: null,
    });
    assert.deepEqual(parseDarwinVersionJson(json), {
      label: '25.05.e95de00',
      revision: 'e95de00a471d07435e0527ff4db092c84998698e',
      configurationRevision: null,
    });
    assert.equal(parseDarwinVersionJson('{'), null);
  });

  it("reads a profile generation link's number", () => {
    assert.equal(generationNumber('home-manager-42-link'), 42);
    assert.equal(generationNumber('/nix/store/abc-home-manager-generation'), null);
  });
});
