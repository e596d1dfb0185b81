/** The CLI as a library: the API client and the contexts file, for scripts and tests. */
export { ApiClient, type ApiClientOptions } from './api-client.js';
export {
  ContextEntry,
  ContextFile,
  contextFilePath,
  readContexts,
  removeContext,
  resolveConnection,
  useContext,
  writeContext,
  type CliEnv,
  type Connection,
  type ConnectionFlags,
} from './context.js';
export {
  ApiError,
  CliError,
  UsageError,
  type CliErrorCode,
  type LocalErrorCode,
} from './errors.js';
export { run, type CliProcess } from './cli.js';
