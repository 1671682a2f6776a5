export { type ApiClient, ApiError, createApiClient } from './api-client.js';
export type { CliIo } from './command.js';
export { defaultConfigDir } from './credentials.js';
export { escapeControl, formatJson, formatTable } from './output.js';
export { runCli } from './run-cli.js';
