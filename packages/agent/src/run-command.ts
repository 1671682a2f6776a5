import { spawn } from 'node:child_process';

export interface RunOptions {
  /** Wall-clock limit; the child is killed (SIGKILL) when it is reached. Default 60 s. */
  timeoutMs?: number;
  /** Replaces the environment; default is the agent's own. */
  env?: NodeJS.ProcessEnv;
  /** Limit on stdout + stderr together; the child is killed when it is exceeded. Default 64 MiB. */
  maxOutputBytes?: number;
  /**
   * Written to the child's stdin, which is then closed (without it stdin is not connected). Firewall
   * rule sets are loaded this way (`nft -f -`, `pfctl -f -`): one transaction, never a shell line or
   * a temporary file someone could swap.
   */
  input?: string;
}

export interface CommandResult {
  stdout: string;
  stderr: string;
  /** Exit code, or null when the child died from a signal. */
  code: number | null;
}

/** The shape collectors and executors depend on, so tests can feed recorded output. */
export type CommandRunner = (cmd: string, args: readonly string[], opts?: RunOptions) => Promise<CommandResult>;

/**
 * Why a command could not produce a result. `ENOENT` means the binary does not exist (callers
 * treat that as "tool not present"); `ETIMEDOUT` and `EOUTPUT` mean the agent killed it.
 * A non-zero exit is not an error here: it is reported in `code` and judged by the caller.
 */
export class CommandError extends Error {
  readonly code: string;
  readonly cmd: string;

  constructor(code: string, cmd: string, message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = 'CommandError';
    this.code = code;
    this.cmd = cmd;
  }
}

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

/** True when `err` (or an error in its cause chain) says a binary or file does not exist. */
export function isNotFound(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return true;
  }
  return false;
}

/**
 * Runs a program with an argument array and no shell, so no argument can be reinterpreted as shell
 * syntax. Output is decoded as UTF-8 only once complete, so multi-byte characters split across
 * chunks survive.
 */
export const runCommand: CommandRunner = (cmd, args, opts = {}) => {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxOutputBytes = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  return new Promise((resolve, reject) => {
    let child: ReturnType<typeof spawn>;
    try {
      const stdin = opts.input === undefined ? 'ignore' : 'pipe';
      child = spawn(cmd, args, { shell: false, stdio: [stdin, 'pipe', 'pipe'], env: opts.env ?? process.env, windowsHide: true });
    } catch (err) {
      // Synchronous refusals, e.g. a NUL byte in an argument.
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
    if (opts.input !== undefined) {
      // A child that exits before reading all of stdin makes the write fail with EPIPE; its exit code says what happened.
      child.stdin?.on('error', () => {});
      child.stdin?.end(opts.input);
    }
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

/** The stdout of a command that exited 0; otherwise a CommandError `EXIT` quoting the start of stderr. */
export function stdoutOf(cmd: string, result: CommandResult): string {
  if (result.code === 0) return result.stdout;
  const detail = result.stderr.trim().slice(0, 500);
  const how = result.code === null ? 'was killed by a signal' : `exited with code ${result.code}`;
  throw new CommandError('EXIT', cmd, `${cmd} ${how}${detail ? `: ${detail}` : ''}`);
}
