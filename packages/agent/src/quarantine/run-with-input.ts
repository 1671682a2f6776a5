import { spawn } from 'node:child_process';
import { CommandError, type CommandResult, type RunOptions } from '../run-command.js';

export interface InputRunOptions extends RunOptions {
  /** Written to the child's stdin, which is then closed; without it stdin is empty (closed at once). */
  input?: string;
}

/**
 * A CommandRunner that can also feed stdin: firewall rule sets are loaded with `nft -f -` and
 * `pfctl -f -`, so the whole rule set reaches the kernel as one transaction and never as a shell
 * command line or a temporary file someone could swap. Any InputRunner is also a CommandRunner.
 */
export type InputRunner = (cmd: string, args: readonly string[], opts?: InputRunOptions) => Promise<CommandResult>;

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_OUTPUT_BYTES = 4 * 1024 * 1024;

/** As runCommand (argument array, no shell, timeout, output cap, the same CommandError codes), with stdin. */
export const runWithInput: InputRunner = (cmd, args, opts = {}) => {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxOutputBytes = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  return new Promise((resolve, reject) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(cmd, args, { shell: false, stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env, windowsHide: true });
    } catch (err) {
      reject(new CommandError('EINVAL', cmd, `cannot start ${cmd}`, { cause: err }));
      return;
    }
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let outputBytes = 0;
    let settled = false;
    const fail = (error: CommandError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      outputBytes += chunk.length;
      if (outputBytes > maxOutputBytes) {
        fail(new CommandError('EOUTPUT', cmd, `${cmd} printed more than ${maxOutputBytes} bytes`));
        return;
      }
      into.push(chunk);
    };
    const timer = setTimeout(() => fail(new CommandError('ETIMEDOUT', cmd, `${cmd} did not finish within ${timeoutMs} ms`)), timeoutMs);
    child.stdout?.on('data', collect(stdout));
    child.stderr?.on('data', collect(stderr));
    // A child that exits before reading all of stdin makes the write fail with EPIPE; its exit code says what happened.
    child.stdin?.on('error', () => {});
    child.stdin?.end(opts.input ?? '');
    child.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? 'ESPAWN';
      const what = code === 'ENOENT' ? `${cmd} is not installed or not on PATH` : `${cmd} could not be run`;
      fail(new CommandError(code, cmd, what, { cause: err }));
    });
    child.on('close', (code) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8'), code });
    });
  });
};
