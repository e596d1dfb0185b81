import { BuildStatus } from '@flotilla/protocol';
import { enumOption, flagOption, integerOption, stringOption } from './args.js';
import { printJson, timeFormat, type Command, type CommandContext } from './command.js';
import { FOLLOW_INTERVAL_MS, FOLLOW_PAGE_SIZE } from './deployment-follow.js';
import { renderBuildDetail, renderBuildLogLine, renderBuildTable } from './builds.view.js';
import { logHeading } from './format.js';

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);

/** `flotilla builds`: the build queue and its history. */
export const buildsCommand: Command = {
  name: 'builds',
  args: [],
  summary: 'List builds (queued, running and finished), newest first',
  options: {
    status: {
      type: 'string',
      value: BuildStatus.options.join('|'),
      description: 'only builds with this status',
    },
    host: { type: 'string', value: 'HOST', description: 'only builds of this host' },
    limit: { type: 'string', value: 'N', description: 'at most N builds (1-500, default 50)' },
  },
  needsToken: true,
  prepare(input) {
    const status = enumOption(input, 'status', BuildStatus.options);
    const host = stringOption(input, 'host');
    const limit = integerOption(input, 'limit', { min: 1, max: 500 });
    return async (context) => {
      const list = await context.client.call('listBuilds', { query: { status, host, limit } });
      if (context.json) printJson(context, list);
      else context.out(renderBuildTable(list, timeFormat(context)));
      return 0;
    };
  },
};

/** Prints the log from `after` on; with `follow`, until the build ends. Returns the exit code. */
async function printBuildLog(
  context: CommandContext,
  id: string,
  follow: boolean,
): Promise<number> {
  let after = 0;
  for (;;) {
    const page = await context.client.call('getBuildLog', {
      params: { id },
      query: { after, limit: FOLLOW_PAGE_SIZE },
    });
    if (context.json) {
      if (page.lines.length > 0) context.out(JSON.stringify(page));
    } else {
      const time = timeFormat(context);
      for (const line of page.lines) context.out(renderBuildLogLine(line, time));
    }
    after = page.last;
    const final = FINAL.has(page.status);
    if (!follow || (final && page.lines.length === 0)) {
      if (follow && !context.json) context.out(`-- build ${page.status}`);
      return !follow || page.status === 'succeeded' ? 0 : 1;
    }
    if (page.lines.length < FOLLOW_PAGE_SIZE) await context.sleep(FOLLOW_INTERVAL_MS);
  }
}

/** `flotilla build ID`: one build, its Nix error first when it failed, then its log. */
export const buildCommand: Command = {
  name: 'build',
  args: ['ID'],
  summary: 'Show a build and its log',
  options: {
    follow: {
      type: 'boolean',
      short: 'f',
      description: 'print the log as it grows until the build ends; exit 0 only if it succeeded',
    },
  },
  needsToken: true,
  prepare(input) {
    const [id = ''] = input.args;
    const follow = flagOption(input, 'follow');
    return async (context) => {
      const build = await context.client.call('getBuild', { params: { id } });
      if (context.json) printJson(context, build);
      else {
        const time = timeFormat(context);
        context.out(`${renderBuildDetail(build, time)}\n\n${logHeading(time)}`);
      }
      return printBuildLog(context, id, follow);
    };
  },
};

/** `flotilla build cancel ID`. */
export const buildCancelCommand: Command = {
  name: 'build cancel',
  args: ['ID'],
  summary: 'Cancel a queued or running build',
  options: {},
  needsToken: true,
  prepare(input) {
    const [id = ''] = input.args;
    return async (context) => {
      const build = await context.client.call('cancelBuild', { params: { id } });
      if (context.json) printJson(context, build);
      else context.out(`build ${build.id}: ${build.status}`);
      return 0;
    };
  },
};

/** `flotilla build retry ID`. */
export const buildRetryCommand: Command = {
  name: 'build retry',
  args: ['ID'],
  summary: 'Queue a failed or cancelled build again',
  options: {},
  needsToken: true,
  prepare(input) {
    const [id = ''] = input.args;
    return async (context) => {
      const build = await context.client.call('retryBuild', { params: { id } });
      if (context.json) printJson(context, build);
      else context.out(`queued build ${build.id} (attempt ${build.attempt}) for ${build.host}`);
      return 0;
    };
  },
};
