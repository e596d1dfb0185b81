#!/usr/bin/env node
import { PINO_FORMAT } from '@flotilla/runtime';
import { pino } from 'pino';
import { BACKUP_USAGE, runBackup } from './backup.command.js';
import { ConfigError, loadConfig, USAGE, wantsHelp } from './config.js';
import { Controller } from './controller.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === 'backup') {
    if (wantsHelp(argv)) console.log(BACKUP_USAGE);
    else process.exitCode = await runBackup(argv.slice(1), process.env);
    return;
  }
  if (wantsHelp(argv)) {
    console.log(USAGE);
    return;
  }
  let config;
  try {
    config = loadConfig(argv, process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`flotilla-controller: ${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
  // The same line format as the agent's (see @flotilla/runtime's Logger).
  const logger = pino({ level: config.logLevel, ...PINO_FORMAT, base: { service: 'controller' } });
  const controller = await Controller.create({ config, logger });
  await controller.listen(config.listen.host, config.listen.port);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    controller.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(`flotilla-controller: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
