/**
 * The apt collector against a REAL apt and dpkg: test/support/apt-sandbox.ts builds .deb files,
 * publishes them in a local repository whose suites carry real Release files (Origin, Label,
 * Suite), installs old versions into a private root and runs `apt-get update` there. The collector
 * then runs the real `apt-get -s dist-upgrade` through the sandbox's APT_CONFIG and `-o` options;
 * nothing is mocked, and the machine's own package state is never read or touched.
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AptSandbox, aptAvailable, createAptSandbox } from '../../../../../test/support/apt-sandbox.js';
import { type CommandRunner, runCommand } from '../../run-command.js';
import { collectPendingUpdates } from './index.js';

const SANDBOX_TIMEOUT_MS = 180_000;
// CI runs on Debian with apt: there these tests must run, never skip.
const canRunApt = process.env.CI === 'true' || (await aptAvailable());
const isRoot = process.getuid?.() === 0;

/** What the sandbox publishes and installs; each package is one case below. */
const sandboxOptions = {
  suites: [
    { name: 'bookworm' },
    // Label defaults to "Debian-Security" for a `-security` name, as on Debian's mirrors.
    { name: 'bookworm-security' },
    { name: 'bookworm-updates', label: 'Debian' },
    // Ubuntu's layout: the pocket's Suite says security, the Label does not.
    { name: 'jammy-security', origin: 'Ubuntu', label: 'Ubuntu' },
  ],
  packages: [
    // A newer version in the normal suite and a newer still in the security suite: the security one is the candidate.
    { name: 'brier-hello', version: '1.0-1' },
    { name: 'brier-hello', version: '1.0-2' },
    { name: 'brier-hello', version: '1.0-3', suite: 'bookworm-security' },
    // A security fix superseded by a newer normal version: apt's candidate is the newer one, not security.
    { name: 'brier-tool', version: '2.0-1' },
    { name: 'brier-tool', version: '2.0-2', suite: 'bookworm-security' },
    { name: 'brier-tool', version: '2.1-1', suite: 'bookworm-updates' },
    // The same version published in both suites: security, since one of its sources is.
    { name: 'brier-same', version: '3.0-1' },
    { name: 'brier-same', version: '3.0-2' },
    { name: 'brier-same', version: '3.0-2', suite: 'bookworm-security' },
    // Up to date: not listed.
    { name: 'brier-current', version: '4.0-1' },
    // Its upgrade needs a package that exists nowhere: kept back, not pending.
    { name: 'brier-blocked', version: '6.0-1' },
    { name: 'brier-blocked', version: '6.0-2', depends: 'brier-nowhere (>= 1)' },
    // An Ubuntu security pocket.
    { name: 'brier-ubuntu', version: '1.0-1ubuntu1' },
    { name: 'brier-ubuntu', version: '1.0-1ubuntu1.1', suite: 'jammy-security' },
    // Not installed: a newer version elsewhere is not an update of anything.
    { name: 'brier-absent', version: '9.0-1', suite: 'bookworm-security' },
  ],
  installed: [
    { name: 'brier-hello', version: '1.0-1' },
    { name: 'brier-tool', version: '2.0-1' },
    { name: 'brier-same', version: '3.0-1' },
    { name: 'brier-current', version: '4.0-1' },
    { name: 'brier-blocked', version: '6.0-1' },
    { name: 'brier-ubuntu', version: '1.0-1ubuntu1' },
  ],
};

describe.runIf(canRunApt)('apt pending updates against a real apt sandbox', () => {
  let sandbox: AptSandbox;

  beforeAll(async () => {
    sandbox = await createAptSandbox(sandboxOptions);
  }, SANDBOX_TIMEOUT_MS);

  afterAll(async () => {
    await sandbox?.cleanup();
  }, SANDBOX_TIMEOUT_MS);

  async function aptUpdates(run: CommandRunner = runCommand) {
    const result = await collectPendingUpdates({ run, platform: 'linux', aptOptions: sandbox.aptOptions, aptEnv: sandbox.env });
    expect(result.sources).toContain('apt');
    return { ...result, updates: result.updates.filter((u) => u.manager === 'apt') };
  }

  it(
    'reports the candidate versions and security flags apt itself would install',
    async () => {
      const { updates, keptBack, invalid } = await aptUpdates();
      expect(invalid).toBe(0);
      const summary = updates.map(
        (u) => `${u.name} ${u.installedVersion} -> ${u.candidateVersion} ${u.security ? 'security' : 'normal'} ${u.origin}:${u.suite}`,
      );
      expect(summary.sort()).toEqual([
        'brier-hello 1.0-1 -> 1.0-3 security Debian-Security:bookworm-security',
        'brier-same 3.0-1 -> 3.0-2 security Debian-Security:bookworm-security',
        'brier-tool 2.0-1 -> 2.1-1 normal Debian:bookworm-updates',
        'brier-ubuntu 1.0-1ubuntu1 -> 1.0-1ubuntu1.1 security Ubuntu:jammy-security',
      ]);
      for (const u of updates) expect(u).toMatchObject({ ecosystem: 'dpkg', kind: 'package', arch: 'all' });
      expect(keptBack).toEqual([{ manager: 'apt', name: 'brier-blocked' }]);
    },
    SANDBOX_TIMEOUT_MS,
  );

  it(
    'changes nothing: the installed versions are the same afterwards',
    async () => {
      const before = await sandbox.installedVersions();
      await aptUpdates();
      expect(await sandbox.installedVersions()).toEqual(before);
      expect(before.get('brier-hello')).toBe('1.0-1');
    },
    SANDBOX_TIMEOUT_MS,
  );

  it(
    'works while another process holds the dpkg locks',
    async () => {
      const locks = [await sandbox.holdLock('lock-frontend'), await sandbox.holdLock('lock')];
      try {
        const { updates } = await aptUpdates();
        expect(updates).toHaveLength(4);
      } finally {
        for (const lock of locks) await lock.release();
      }
    },
    SANDBOX_TIMEOUT_MS,
  );

  it(
    'sees a newly published security version after the lists are refreshed',
    async () => {
      await sandbox.addPackages([{ name: 'brier-current', version: '4.0-2', suite: 'bookworm-security' }]);
      const current = (await aptUpdates()).updates.find((u) => u.name === 'brier-current');
      expect(current).toMatchObject({ installedVersion: '4.0-1', candidateVersion: '4.0-2', security: true, suite: 'bookworm-security' });
    },
    SANDBOX_TIMEOUT_MS,
  );
});

describe.runIf(canRunApt && isRoot)('apt pending updates without root', () => {
  const nobody = { uid: 65534, gid: 65534 };
  let sandbox: AptSandbox;

  beforeAll(async () => {
    sandbox = await createAptSandbox({ ...sandboxOptions, runAs: nobody });
  }, SANDBOX_TIMEOUT_MS);

  afterAll(async () => {
    await sandbox?.cleanup();
  }, SANDBOX_TIMEOUT_MS);

  /**
   * Runs apt-get as the unprivileged user, no shell, like runCommand. Other tools are reported
   * missing: looked up through root's PATH as nobody they fail with EACCES, not ENOENT.
   */
  const runAsNobody: CommandRunner = (cmd, args, opts) =>
    new Promise((resolve, reject) => {
      if (cmd !== 'apt-get') {
        reject(Object.assign(new Error(`spawn ${cmd} ENOENT`), { code: 'ENOENT' }));
        return;
      }
      execFile(
        cmd,
        args,
        { env: opts?.env ?? process.env, timeout: opts?.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024, ...nobody },
        (error, stdout, stderr) => {
          if (error && typeof error.code !== 'number') reject(error);
          else resolve({ stdout, stderr, code: error ? (error.code as number) : 0 });
        },
      );
    });

  it(
    'reads the same list as an unprivileged user',
    async () => {
      const result = await collectPendingUpdates({
        run: runAsNobody,
        platform: 'linux',
        aptOptions: sandbox.aptOptions,
        aptEnv: sandbox.env,
      });
      const apt = result.updates.filter((u) => u.manager === 'apt');
      expect(apt.map((u) => `${u.name} ${u.candidateVersion} ${u.security}`).sort()).toEqual([
        'brier-hello 1.0-3 true',
        'brier-same 3.0-2 true',
        'brier-tool 2.1-1 false',
        'brier-ubuntu 1.0-1ubuntu1.1 true',
      ]);
    },
    SANDBOX_TIMEOUT_MS,
  );
});
