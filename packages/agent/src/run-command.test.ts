import { describe, expect, it } from 'vitest';
import { CommandError, isNotFound, runCommand } from './run-command.js';

describe('runCommand', () => {
  it('returns stdout, stderr and the exit code of a real program', async () => {
    const result = await runCommand(process.execPath, ['-e', 'process.stdout.write("out"); process.stderr.write("err"); process.exit(3)']);
    expect(result).toEqual({ stdout: 'out', stderr: 'err', code: 3 });
  });

  it('passes arguments verbatim, so shell syntax is never interpreted', async () => {
    const hostile = '$(touch /tmp/brier-pwned); `id` | cat; echo "x" > /dev/null';
    const result = await runCommand(process.execPath, ['-e', 'process.stdout.write(process.argv[1])', hostile]);
    expect(result.stdout).toBe(hostile);
  });

  it('decodes multi-byte UTF-8 split across output chunks', async () => {
    const script =
      'const b = Buffer.from("é✓"); process.stdout.write(b.subarray(0, 1)); setTimeout(() => process.stdout.write(b.subarray(1)), 20)';
    const result = await runCommand(process.execPath, ['-e', script]);
    expect(result.stdout).toBe('é✓');
  });

  it('reports a missing binary as ENOENT that callers can detect', async () => {
    const error = await runCommand('brier-no-such-binary-xyz', []).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect((error as CommandError).code).toBe('ENOENT');
    expect(isNotFound(error)).toBe(true);
    expect(isNotFound(new Error('wrapped', { cause: error }))).toBe(true);
    expect(isNotFound(new Error('other'))).toBe(false);
  });

  it('kills a child that outlives its timeout', async () => {
    const started = Date.now();
    const error = await runCommand(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { timeoutMs: 200 }).catch((e: unknown) => e);
    expect((error as CommandError).code).toBe('ETIMEDOUT');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('kills a child that prints more than the output limit', async () => {
    const error = await runCommand(process.execPath, ['-e', 'process.stdout.write("x".repeat(100000))'], { maxOutputBytes: 1000 }).catch(
      (e: unknown) => e,
    );
    expect((error as CommandError).code).toBe('EOUTPUT');
  });

  it('refuses an argument containing a NUL byte instead of truncating it', async () => {
    const error = await runCommand(process.execPath, ['-e', '1', 'a\u0000b']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
  });

  it('uses the given environment instead of the agent one', async () => {
    const result = await runCommand(process.execPath, ['-e', 'process.stdout.write(String(process.env.BRIER_T))'], {
      env: { BRIER_T: 'yes' },
    });
    expect(result.stdout).toBe('yes');
  });
});
