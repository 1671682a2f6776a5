// The only module that touches process state: argv, env, stdio, exit code.
import { homedir } from 'node:os';
import type { CliIo } from './command.js';
import { defaultConfigDir } from './credentials.js';
import { runCli } from './run-cli.js';
import { createTtyPrompt } from './tty-prompt.js';

// `brier hosts list | head` closes the pipe early; that is not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

const io: CliIo = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  env: process.env,
  fetch: globalThis.fetch,
  readStdin,
  prompt: process.stdin.isTTY ? createTtyPrompt(process.stdin, process.stderr) : undefined,
  configDir: defaultConfigDir(process.env, homedir()),
};

// exitCode rather than exit(): exit() may cut off output still queued for a pipe.
process.exitCode = await runCli(process.argv.slice(2), io);
