#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { FLOTILLA_VERSION } from '@flotilla/protocol';
import { loadConfig } from './config.js';
import { createAgent } from './create-agent.js';
import { ensureEnrolled, NotEnrolled } from './identity/agent-identity.js';
import { controllerTlsOptions } from './identity/controller-tls.js';
import { enrollmentUrl, postEnrollment } from './identity/enrollment-client.js';
import { Logger } from '@flotilla/runtime';

/**
 * Exit code for an invalid configuration or an agent that cannot enroll, so service
 * managers can tell it from a crash (and not restart it in a loop).
 */
const EXIT_BAD_CONFIG = 2;

// Logs go to stdout; if whoever reads them goes away (EPIPE), the agent must keep running:
// it may be in the middle of a deployment that nothing else can finish or roll back.
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);

async function main(): Promise<number> {
  const result = await loadConfig({
    argv: process.argv.slice(2),
    env: process.env,
    readTextFile: (path) => readFile(path, 'utf8'),
    hostname: () => os.hostname(),
    version: FLOTILLA_VERSION,
    platform: process.platform,
  });
  switch (result.kind) {
    case 'help':
    case 'version':
      process.stdout.write(result.text);
      return 0;
    case 'invalid':
      process.stderr.write(
        'flotilla-agent: invalid configuration:\n' +
          result.errors.map((error) => `  - ${error}\n`).join('') +
          'Run flotilla-agent --help for the options.\n',
      );
      return EXIT_BAD_CONFIG;
    case 'config':
      break;
  }
  const { config } = result;
  const logger = new Logger({
    level: config.logLevel,
    fields: { service: 'agent', host: config.host },
  });
  const tls = controllerTlsOptions(config.tls);
  let key;
  try {
    key = await ensureEnrolled({
      stateDir: config.stateDir,
      host: config.host,
      controllerUrl: config.controllerUrl,
      enrollmentToken: config.enrollmentToken,
      enrollmentTokenFile: config.enrollmentTokenFile,
      enroll: (request) => postEnrollment(enrollmentUrl(config.controllerUrl), request, tls),
      logger,
      retry: { baseMs: 1000, capMs: config.reconnectMaxSeconds * 1000 },
    });
  } catch (error) {
    if (!(error instanceof NotEnrolled)) throw error;
    logger.error(error.message);
    process.stderr.write(`flotilla-agent: ${error.message}\n`);
    return EXIT_BAD_CONFIG;
  }
  const agent = createAgent(config, key, logger);
  logger.info('flotilla agent starting', {
    version: FLOTILLA_VERSION,
    host: config.host,
    mode: config.mode,
    controllerUrl: config.controllerUrl,
    stateDir: config.stateDir,
    keyFingerprint: key.fingerprint,
    trustedPublicKeys: config.trustedPublicKeys,
    healthChecks: config.healthChecks.length,
  });
  await agent.start();
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  logger.info('stopping', { signal });
  await agent.stop();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `flotilla-agent: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
    process.exit(1);
  },
);
