import { describe, expect, it } from 'vitest';
import { CommandError, runCommand } from './run-command.js';

describe('runCommand', () => {
  it('feeds the input to stdin and collects stdout and the exit code, with no shell in between', async () => {
    const result = await runCommand(
      process.execPath,
      ['-e', "process.stdin.pipe(process.stdout); process.stdin.on('end', () => process.exitCode = 3)"],
      {
        input: 'table inet x; $(reboot) `id`\n',
      },
    );
    expect(result).toEqual({ stdout: 'table inet x; $(reboot) `id`\n', stderr: '', code: 3 });
  });

  it('closes stdin at once when there is no input', async () => {
    const result = await runCommand(process.execPath, [
      '-e',
      "let n = 0; process.stdin.on('data', (c) => { n += c.length }).on('end', () => console.log(n))",
    ]);
    expect(result.stdout.trim()).toBe('0');
  });

  it('says ENOENT for a missing program and ETIMEDOUT for one that hangs', async () => {
    await expect(runCommand('brier-no-such-tool', [])).rejects.toMatchObject({ code: 'ENOENT' });
    const hung = runCommand(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { timeoutMs: 200 });
    await expect(hung).rejects.toBeInstanceOf(CommandError);
    await expect(hung).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  });
});
