import { describe, expect, it } from 'vitest';
import { rawControls, testIo } from '../__fixtures__/fake-api.js';
import { runCli } from '../run-cli.js';

/** Runs `brier ...args` with `stdin`; no server and no config directory are ever touched. */
async function vercmp(args: string[], stdin: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const t = testIo({ configDir: '/nonexistent/brier-vercmp-test', stdin, env: {} });
  const code = await runCli(args, t.io);
  return { code, stdout: t.stdout(), stderr: t.stderr() };
}

describe('brier vercmp', () => {
  it('prints -1, 0 or 1 for each pair in input order', async () => {
    const { code, stdout, stderr } = await vercmp(['vercmp', '--ecosystem', 'dpkg'], '1.0-1 1.0-2\n2:1 1:9\n1.0 1.0-0\n1.0~rc1\t1.0\n');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toBe('-1\n1\n0\n-1\n');
  });

  it('skips blank lines and # comments, and accepts CRLF line ends', async () => {
    const input = '# header\n\n  1.0.0 2.0.0  # trailing note\r\n\t\n2.0.0 1.0.0\n';
    const { code, stdout } = await vercmp(['vercmp', '-e', 'semver'], input);
    expect(code).toBe(0);
    expect(stdout).toBe('-1\n1\n');
  });

  it('keeps going after a bad line, prints error in its place and names the line on stderr', async () => {
    const input = '1.0-r0 1.0-r1\n1.0 not-a-version\n\n1.0 2.0 3.0\n1.0_rc1 1.0\nlonely\n';
    const { code, stdout, stderr } = await vercmp(['vercmp', '--ecosystem', 'apk'], input);
    expect(code).toBe(1);
    expect(stdout).toBe('-1\nerror\nerror\n-1\nerror\n');
    const messages = stderr.trimEnd().split('\n');
    expect(messages).toHaveLength(3);
    expect(messages[0]).toMatch(/^brier: line 2: invalid apk version "not-a-version"/);
    expect(messages[1]).toBe('brier: line 4: expected two versions, found 3');
    expect(messages[2]).toBe('brier: line 6: expected two versions, found 1');
  });

  it('escapes control characters of bad input in its messages', async () => {
    const { code, stdout, stderr } = await vercmp(['vercmp', '--ecosystem', 'dpkg'], '1.0\u001b[2J 1.0\n');
    expect(code).toBe(1);
    expect(stdout).toBe('error\n');
    expect(stderr).toContain('line 1');
    expect(rawControls(stderr)).toEqual([]);
  });

  it.each([
    ['Debian:12', '1.0-1 1.0-1+deb12u1', '-1'],
    ['Ubuntu:22.04:LTS', '1:1.0 2.0', '1'],
    ['Alpine:v3.19', '1.2.3-r0 1.2.3_p1-r0', '-1'],
    ['Red Hat', '1:1.0-1.el9 0:2.0-1.el9', '1'],
    ['rpm', '1.0^git1 1.0', '1'],
    ['npm', 'v1.0.0 1.0.0', '0'],
  ])('maps the ecosystem %j to its ordering', async (ecosystem, pair, expected) => {
    const { code, stdout } = await vercmp(['vercmp', '--ecosystem', ecosystem], `${pair}\n`);
    expect(code).toBe(0);
    expect(stdout).toBe(`${expected}\n`);
  });

  it('prints nothing and succeeds on empty input', async () => {
    expect(await vercmp(['vercmp', '--ecosystem', 'rpm'], '')).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('is a usage error without --ecosystem or with one it does not know', async () => {
    const missing = await vercmp(['vercmp'], '1 2\n');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('missing --ecosystem');
    const unknown = await vercmp(['vercmp', '--ecosystem', 'PyPI'], '1 2\n');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown ecosystem 'PyPI'");
    expect(unknown.stdout).toBe('');
  });

  it('is listed by brier --help and explains its input format under --help', async () => {
    const main = await vercmp(['--help'], '');
    expect(main.stdout).toMatch(/^ {2}vercmp +Compare version pairs read from stdin as dpkg, rpm, apk or semver order them$/m);
    const help = await vercmp(['vercmp', '--help'], '');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: brier vercmp --ecosystem E');
    expect(help.stdout).toContain('one pair a line, two versions separated by spaces or tabs');
    expect(help.stdout).toContain("'error'");
  });
});
