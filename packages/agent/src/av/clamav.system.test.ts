// The ClamAV provider against the REAL thing: clamav and clamav-daemon installed from Debian's
// packages through the agent's apt PackageControl, clamd started through this machine's service
// manager (init scripts, falling back to a direct start when the script refuses to start without
// main/daily databases), health read back, clamd killed and brought back by `ensure`.
//
// It installs packages on the machine, so it runs only when BRIER_CLAMAV_TEST is set. Under CI the
// whole-system test (test/antivirus-end-to-end.test.ts) covers the same ground through a policy, and
// the two must not drive one clamd at the same time. It leaves the packages installed; clamd and
// the test signature file are removed again when this test put them there.
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AptControl } from '../executors/apt-control.linux.js';
import type { AntivirusProvider } from '../policy/ports.js';
import { runCommand } from '../run-command.js';
import { platformServiceManager } from '../services/index.js';
import { CLAMAV_PACKAGES, clamdPing, clamdRequest, DEFAULT_DATABASE_DIR, DEFAULT_LOCAL_SOCKET } from './clamav.linux.js';
import { antivirusProvider } from './index.js';

const enabled = Boolean(process.env.BRIER_CLAMAV_TEST);
const canRun = enabled && process.platform === 'linux' && process.getuid?.() === 0;
const SIGNATURE = 'Brier.Test.Signature';
const SAMPLE = 'brier clamav system test sample: not a virus\n';
/** Loose enough that the test never depends on freshclam reaching a mirror. */
const WANT = { maxSignatureAgeHours: 24 * 365 };

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Live clamd processes, from /proc (zombies excluded: a killed clamd lingers until PID 1 reaps it). */
function clamdPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const state = stat.slice(stat.lastIndexOf(')') + 1).trim()[0];
    if (name === 'clamd' && state !== 'Z') pids.push(Number(entry));
  }
  return pids;
}

describe.runIf(canRun)('ClamAV on this machine (real apt, real clamd)', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'brier-clamav-system-'));
  chmodSync(work, 0o755); // clamd scans as the clamav user
  const sample = path.join(work, 'sample.txt');
  writeFileSync(sample, SAMPLE, { mode: 0o644 });
  const localDatabase = path.join(work, 'brier-test.hdb');
  writeFileSync(localDatabase, `${createHash('md5').update(SAMPLE).digest('hex')}:${Buffer.byteLength(SAMPLE)}:${SIGNATURE}\n`, {
    mode: 0o644,
  });
  const copiedDatabase = path.join(DEFAULT_DATABASE_DIR, 'brier-test.hdb');

  const services = platformServiceManager('linux', runCommand);
  const packages = new AptControl({ run: runCommand });
  const clamav: AntivirusProvider = antivirusProvider('clamav', {
    run: runCommand,
    services,
    packages,
    localDatabase,
    startTimeoutMs: 150_000,
  });
  let startedByTest = false;
  let copiedByTest = false;

  // Leave the machine as found, apart from the packages: stop the clamd this test started and
  // remove the signature file it copied (the provider copies it only into an empty directory).
  afterAll(async () => {
    if (startedByTest) {
      for (const pid of clamdPids()) process.kill(pid, 'SIGTERM');
      await waitFor('clamd to exit', async () => clamdPids().length === 0, 30_000).catch(() => {});
    }
    if (copiedByTest) rmSync(copiedDatabase, { force: true });
    rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it('installs clamav and clamav-daemon with apt, starts clamd, reports it healthy, and brings it back after it is killed', async () => {
    expect(['sysvinit', 'direct', 'systemd']).toContain(services.kind);
    startedByTest = !(await clamdPing(DEFAULT_LOCAL_SOCKET));
    const before = await clamav.health();
    const actions = await clamav.ensure(WANT, before);
    copiedByTest = actions.some((a) => a.ok && a.detail.startsWith('copied local signature file'));
    const failures = actions.filter((a) => !a.ok);
    // Under CI an unreachable mirror must fail here, saying so, not skip.
    expect(failures, `ensure failed (is the Debian mirror reachable for apt?): ${JSON.stringify(failures)}`).toEqual([]);
    for (const name of CLAMAV_PACKAGES) expect(await packages.installedVersion(name), `${name} installed`).not.toBeNull();

    const healthy = await clamav.health();
    expect(healthy, healthy.detail).toMatchObject({ provider: 'clamav', installed: true, running: true, realTimeProtection: true });
    expect(typeof healthy.signatureAgeHours).toBe('number');
    expect(healthy.detail).toContain('clamd answers PING');

    // The test signature is what clamd loaded when the directory had no other database.
    if (copiedByTest) {
      const verdict = await clamdRequest(DEFAULT_LOCAL_SOCKET, `SCAN ${sample}`, 30_000);
      expect(verdict).toBe(`${sample}: ${SIGNATURE}.UNOFFICIAL FOUND`);
    }

    // Someone kills clamd: health says so, and ensure starts it again through the service manager.
    const pids = clamdPids();
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    await waitFor('clamd to die', async () => clamdPids().length === 0 && !(await clamdPing(DEFAULT_LOCAL_SOCKET)), 30_000);
    const down = await clamav.health();
    expect(down, down.detail).toMatchObject({ installed: true, running: false });

    const again = await clamav.ensure(WANT, down);
    expect(
      again.filter((a) => !a.ok),
      JSON.stringify(again),
    ).toEqual([]);
    expect(again.at(-1)?.detail).toContain('clamd answers PING');
    startedByTest = true;
    expect(await clamav.health()).toMatchObject({ installed: true, running: true });
  }, 240_000);
});
