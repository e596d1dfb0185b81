/**
 * The demo repository's post-receive hook: tells the controller about a push the way
 * GitHub does, with a JSON body signed by `X-Hub-Signature-256`.
 *
 *   node scripts/dist/demo-webhook.js --url http://127.0.0.1:8080 --secret-file FILE
 *
 * Reads git's post-receive lines (`<old> <new> <ref>`) from stdin.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { url: { type: 'string' }, 'secret-file': { type: 'string' } },
});
if (!values.url || !values['secret-file']) {
  console.error('usage: demo-webhook --url URL --secret-file FILE < post-receive lines');
  process.exit(2);
}
const secret = readFileSync(values['secret-file'], 'utf8').trim();
const input = readFileSync(0, 'utf8').trim().split('\n').filter(Boolean);

for (const line of input) {
  const [before = '', after = '', ref = ''] = line.split(' ');
  const body = JSON.stringify({ ref, before, after, repository: { full_name: 'demo/nixcfg' } });
  const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  try {
    const response = await fetch(`${values.url}/api/v1/webhooks/github`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-github-delivery': randomUUID(),
        'x-hub-signature-256': signature,
      },
      body,
    });
    console.error(`flotilla: webhook for ${ref} answered ${response.status}`);
  } catch (error) {
    console.error(
      `flotilla: webhook failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
