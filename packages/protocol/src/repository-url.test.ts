import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LinkRepositoryRequest } from './repository.js';
import { repositoryUrlKind, repositoryUrlProblem } from './repository-url.js';

describe('repositoryUrlKind', () => {
  it('names the kinds git is given', () => {
    assert.equal(repositoryUrlKind('https://github.com/you/nixcfg.git'), 'https');
    assert.equal(repositoryUrlKind('http://git.lan/nixcfg.git'), 'http');
    assert.equal(repositoryUrlKind('ssh://git@github.com/you/nixcfg.git'), 'ssh');
    assert.equal(repositoryUrlKind('ssh://git@[::1]:2222/srv/nixcfg.git'), 'ssh');
    assert.equal(repositoryUrlKind('git@github.com:you/nixcfg.git'), 'scp');
    assert.equal(repositoryUrlKind('file:///srv/git/nixcfg.git'), 'file');
    assert.equal(repositoryUrlKind('/srv/git/nixcfg.git'), 'path');
  });

  it('refuses options, remote helpers, odd hosts and whitespace', () => {
    for (const url of [
      '--upload-pack=touch /tmp/pwned',
      '-oProxyCommand=touch /tmp/pwned',
      'ext::sh -c touch% /tmp/pwned',
      'fd::17',
      'ssh://-oProxyCommand=x/path',
      'ssh://git@-host/path',
      '-git@host:path',
      'git@-host:path',
      'git@host:-path',
      'git@host:/-path',
      'host:path',
      'git://github.com/you/nixcfg.git',
      'https://github.com/you/nix cfg.git',
      'https://github.com/you/\nnixcfg.git',
      'relative/path',
      'file://remote-host/srv/x.git',
      '/srv/a::b',
    ]) {
      assert.equal(repositoryUrlKind(url), undefined, url);
    }
  });
});

describe('repositoryUrlProblem', () => {
  it('lets the API link only https, ssh and scp-like URLs', () => {
    const api = (url: string, token = false) => repositoryUrlProblem(url, 'api', { token });
    assert.equal(api('https://github.com/you/nixcfg.git', true), undefined);
    assert.equal(api('ssh://git@github.com/you/nixcfg.git'), undefined);
    assert.equal(api('git@github.com:you/nixcfg.git'), undefined);
    assert.match(api('http://git.lan/nixcfg.git') ?? '', /https/);
    assert.match(api('/srv/git/nixcfg.git') ?? '', /config file/);
    assert.match(api('file:///srv/git/nixcfg.git') ?? '', /config file/);
    assert.match(
      api('ssh://git@github.com/you/nixcfg.git', true) ?? '',
      /only ever sent over https/,
    );
  });

  it('lets the config file link local paths and http, but no token over http', () => {
    const config = (url: string, token = false) => repositoryUrlProblem(url, 'config', { token });
    assert.equal(config('/srv/git/nixcfg.git'), undefined);
    assert.equal(config('http://git.lan/nixcfg.git'), undefined);
    assert.match(config('http://git.lan/nixcfg.git', true) ?? '', /only ever sent over https/);
    assert.ok(config('--upload-pack=touch /tmp/pwned') !== undefined);
  });

  it('is part of the API body', () => {
    const refused = LinkRepositoryRequest.safeParse({ url: '--upload-pack=touch /tmp/pwned' });
    assert.equal(refused.success, false);
    assert.deepEqual(
      refused.error?.issues.map((i) => i.path),
      [['url']],
    );
    assert.equal(
      LinkRepositoryRequest.safeParse({ url: 'http://git.lan/x.git', token: 'ghp_x' }).success,
      false,
    );
    assert.equal(
      LinkRepositoryRequest.safeParse({ url: 'https://github.com/you/nixcfg.git', token: 'ghp_x' })
        .success,
      true,
    );
  });
});
