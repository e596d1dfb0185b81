import { RevisionKind } from '@flotilla/protocol';
import { durationOption, enumOption, flagOption, integerOption } from './args.js';
import { renderPreview } from './builds.view.js';
import { printJson, timeFormat, type Command } from './command.js';
import {
  renderPreviewCreated,
  renderRevisionDetail,
  renderRevisionTable,
} from './repository.view.js';
import { exitCodeOf, followCommit, timeoutOption, WAIT_DESCRIPTION } from './wait.command.js';
import { renderWaitOutcome, waitOutcomeJson } from './wait.view.js';

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

/** `flotilla preview REF [--wait]`: records a preview of a ref such as refs/pull/12/head. */
export const previewCommand: Command = {
  name: 'preview',
  args: ['REF'],
  summary: 'Preview a ref (e.g. refs/pull/12/head): what it would build',
  description: `With --wait, follows the preview like "flotilla wait" (same exit codes) and
then shows which hosts it rebuilds.\n${WAIT_DESCRIPTION}`,
  options: {
    wait: { type: 'boolean', description: 'wait until it is built (or --for evaluated)' },
    for: {
      type: 'string',
      value: 'evaluated|built',
      description: 'with --wait: the stage to wait for (default built)',
    },
    timeout: timeoutOption,
  },
  needsToken: true,
  prepare(input) {
    const [ref = ''] = input.args;
    const wait = flagOption(input, 'wait');
    const target = enumOption(input, 'for', ['evaluated', 'built'] as const) ?? 'built';
    const timeoutSeconds = durationOption(input, 'timeout', { min: 1, max: 7 * 86400 }) ?? 1800;
    return async (context) => {
      const response = await context.client.call('createPreview', { body: { ref } });
      if (!wait) {
        if (context.json) printJson(context, response);
        else context.out(renderPreviewCreated(response, timeFormat(context)));
        return 0;
      }
      if (!context.json) {
        const { revision } = response;
        context.err(
          `Recorded preview ${revision.id} of ${revision.ref} at ${revision.sha.slice(0, 12)}; waiting until it is ${target}.`,
        );
      }
      const id = response.revision.id;
      const outcome = await followCommit(context, id, { target, hosts: undefined, timeoutSeconds });
      const preview = await context.client.call('getPreview', { params: { id } });
      if (context.json) printJson(context, { ...waitOutcomeJson(outcome), preview });
      else
        context.out(`${renderWaitOutcome(outcome, timeoutSeconds)}\n\n${renderPreview(preview)}`);
      return exitCodeOf(outcome);
    };
  },
};
