import { RevisionKind } from '@flotilla/protocol';
import { enumOption, integerOption } from './args.js';
import { printJson, timeFormat, type Command } from './command.js';
import {
  renderPreviewCreated,
  renderRevisionDetail,
  renderRevisionTable,
} from './repository.view.js';

/** `flotilla revisions`: commits the controller recorded, newest first. */
export const revisionsCommand: Command = {
  name: 'revisions',
  args: [],
  summary: 'List recorded revisions (branch heads and previews), newest first',
  options: {
    kind: {
      type: 'string',
      value: RevisionKind.options.join('|'),
      description: 'only revisions of this kind',
    },
    limit: { type: 'string', value: 'N', description: 'at most N revisions (1-500, default 50)' },
  },
  needsToken: true,
  prepare(input) {
    const kind = enumOption(input, 'kind', RevisionKind.options);
    const limit = integerOption(input, 'limit', { min: 1, max: 500 });
    return async (context) => {
      const list = await context.client.call('listRevisions', { query: { kind, limit } });
      if (context.json) printJson(context, list);
      else context.out(renderRevisionTable(list, timeFormat(context)));
      return 0;
    };
  },
};

/** `flotilla revision ID`. */
export const revisionCommand: Command = {
  name: 'revision',
  args: ['ID'],
  summary: 'Show one revision with its commit message',
  options: {},
  needsToken: true,
  prepare(input) {
    const [id = ''] = input.args;
    return async (context) => {
      const revision = await context.client.call('getRevision', { params: { id } });
      if (context.json) printJson(context, revision);
      else context.out(renderRevisionDetail(revision, timeFormat(context)));
      return 0;
    };
  },
};

/** `flotilla preview REF`: records a preview of a ref such as refs/pull/12/head. */
export const previewCommand: Command = {
  name: 'preview',
  args: ['REF'],
  summary: 'Preview a ref (e.g. refs/pull/12/head): what it would build',
  options: {},
  needsToken: true,
  prepare(input) {
    const [ref = ''] = input.args;
    return async (context) => {
      const response = await context.client.call('createPreview', { body: { ref } });
      if (context.json) printJson(context, response);
      else context.out(renderPreviewCreated(response, timeFormat(context)));
      return 0;
    };
  },
};
