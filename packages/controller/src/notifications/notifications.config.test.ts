import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadNotificationSecrets, NotificationsConfig } from './notifications.config.js';

describe('NotificationsConfig', () => {
  it('defaults to no receivers and a 10 minute offline threshold', () => {
    assert.deepEqual(NotificationsConfig.parse({}), {
      webhooks: [],
      ntfy: [],
      offlineAfterMinutes: 10,
    });
  });

  it('lists every problem: credentials in URLs, bad topics, unknown kinds', () => {
    const parsed = NotificationsConfig.safeParse({
      webhooks: [
        { url: 'https://user:pw@hooks.example.org/x' },
        { url: 'ftp://example.org' },
        { url: 'https://ok.example.org', events: ['deployment.exploded'] },
      ],
      ntfy: [{ server: 'https://ntfy.example.org', topic: 'has spaces' }],
    });
    assert.equal(parsed.success, false);
    const paths = parsed.error?.issues.map((i) => i.path.join('.'));
    assert.deepEqual(paths?.sort(), [
      'ntfy.0.topic',
      'webhooks.0.url',
      'webhooks.1.url',
      'webhooks.2.events.0',
    ]);
  });
});

describe('loadNotificationSecrets', () => {
  const files: Record<string, string> = {
    '/run/secrets/hook': 'hook-secret\n',
    '/run/secrets/ntfy': 'tk_abc\n',
    '/run/secrets/empty': '\n',
  };
  const readFile = (path: string): string => {
    const content = files[path];
    if (content === undefined) throw new Error(`ENOENT: no such file, open '${path}'`);
    return content;
  };

  it('names receivers by kind and position and reads their secrets', () => {
    const config = NotificationsConfig.parse({
      webhooks: [
        { url: 'https://a.example.org/hook', secretFile: '/run/secrets/hook' },
        { url: 'https://b.example.org/hook', events: ['deployment.failed'] },
      ],
      ntfy: [
        { server: 'https://ntfy.example.org/', topic: 'fleet', tokenFile: '/run/secrets/ntfy' },
      ],
    });
    const { receivers, problems } = loadNotificationSecrets(config, readFile);
    assert.deepEqual(problems, []);
    assert.deepEqual(receivers, [
      {
        type: 'webhook',
        name: 'webhook:0',
        url: 'https://a.example.org/hook',
        secret: 'hook-secret',
        events: null,
      },
      {
        type: 'webhook',
        name: 'webhook:1',
        url: 'https://b.example.org/hook',
        secret: null,
        events: ['deployment.failed'],
      },
      {
        type: 'ntfy',
        name: 'ntfy:0',
        url: 'https://ntfy.example.org/fleet',
        token: 'tk_abc',
        events: null,
      },
    ]);
  });

  it('reports every unreadable or empty file, not just the first', () => {
    const config = NotificationsConfig.parse({
      webhooks: [{ url: 'https://a.example.org', secretFile: '/run/secrets/missing' }],
      ntfy: [{ server: 'https://ntfy.example.org', topic: 't', tokenFile: '/run/secrets/empty' }],
    });
    const { problems } = loadNotificationSecrets(config, readFile);
    assert.equal(problems.length, 2);
    assert.match(problems[0] ?? '', /^notifications\.webhooks\.0\.secretFile: ENOENT/);
    assert.equal(problems[1], 'notifications.ntfy.0.tokenFile: /run/secrets/empty is empty');
  });
});
