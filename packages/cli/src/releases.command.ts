import { ReleaseStatus } from '@flotilla/protocol';
import { enumOption, integerOption } from './args.js';
import { printJson, timeFormat, type Command } from './command.js';
import {
  renderFlakeHosts,
  renderPreview,
  renderReleaseDetail,
  renderReleaseTable,
} from './builds.view.js';

/** `flotilla releases [HOST]`: built systems ready to deploy, and their history. */
export const releasesCommand: Command = {
  name: 'releases',
  args: [],
  optionalArgs: ['HOST'],
  summary: 'List releases (built systems per host and revision), newest first',
  options: {
    status: {
      type: 'string',
      value: ReleaseStatus.options.join('|'),
      description: 'only releases with this status',
    },
    limit: { type: 'string', value: 'N', description: 'at most N releases (1-500, default 50)' },
  },
  needsToken: true,
  prepare(input) {
    const [host] = input.args;
    const status = enumOption(input, 'status', ReleaseStatus.options);
    const limit = integerOption(input, 'limit', { min: 1, max: 500 });
    return async (context) => {
      const list = await context.client.call('listReleases', { query: { host, status, limit } });
      if (context.json) printJson(context, list);
      else context.out(renderReleaseTable(list, timeFormat(context)));
      return 0;
    };
  },
};

/** `flotilla release ID`. */
export const releaseCommand: Command = {
  name: 'release',
  args: ['ID'],
  summary: 'Show one release: commit, store path, closure size',
  options: {},
  needsToken: true,
  prepare(input) {
    const [id = ''] = input.args;
    return async (context) => {
      const release = await context.client.call('getRelease', { params: { id } });
      if (context.json) printJson(context, release);
      else context.out(renderReleaseDetail(release, timeFormat(context)));
      return 0;
    };
  },
};

/** `flotilla preview show REVISION_ID`: which hosts a previewed ref rebuilds, by how much. */
export const previewShowCommand: Command = {
  name: 'preview show',
  args: ['REVISION_ID'],
  summary: 'Show which hosts a previewed ref rebuilds and by how much',
  options: {},
  needsToken: true,
  prepare(input) {
    const [id = ''] = input.args;
    return async (context) => {
      const preview = await context.client.call('getPreview', { params: { id } });
      if (context.json) printJson(context, preview);
      else context.out(renderPreview(preview));
      return 0;
    };
  },
};

/** `flotilla flake hosts`: hosts in the flake vs hosts registered. */
export const flakeHostsCommand: Command = {
  name: 'flake hosts',
  args: [],
  summary: "List the flake's hosts: discovered (no agent yet) and missing from the flake",
  options: {},
  needsToken: true,
  prepare() {
    return async (context) => {
      const list = await context.client.call('flakeHosts');
      if (context.json) printJson(context, list);
      else context.out(renderFlakeHosts(list));
      return 0;
    };
  },
};
