import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import si from 'systeminformation';
import { type AgentDeps, buildAgent } from '../../packages/agent/src/agent.js';
import { collectInventory } from '../../packages/agent/src/collectors/inventory.js';
import { collectPendingUpdates } from '../../packages/agent/src/collectors/updates/index.js';
import { enroll } from '../../packages/agent/src/enroll.js';
import { runCommand } from '../../packages/agent/src/run-command.js';
import { AgentState } from '../../packages/agent/src/state/agent-state.js';

export { databases } from './pg-available.js';

export const exec = promisify(execFile);

export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Calls the server's REST API as admin over the real socket. */
export function apiClient(baseUrl: string, token: string) {
  return async function api<T>(method: string, url: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(baseUrl + url, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
}

/** Reads a Prometheus counter's value from /metrics (0 when absent). */
export async function metric(baseUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const wanted = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  const line = text.split('\n').find((l) => l.startsWith(wanted ? `${name}{${wanted}}` : `${name} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** Polls until `check` returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface RealAgentOptions {
  baseUrl: string;
  stateDir: string;
  joinToken: string;
  dpkgAdmindir?: string;
  /** Where pending updates come from: an apt sandbox's options, or none at all (the default). */
  apt?: { aptOptions: readonly string[]; env: Readonly<Record<string, string>> };
  /** Package executors for signed work (e.g. an AptExecutor on a sandbox); none means every assignment fails as tool-missing. */
  executors?: AgentDeps['executors'];
  /** What policies act through (services, packages, antivirus); none: package and service rules report errors. */
  policyPorts?: AgentDeps['policyPorts'];
  /** How policy intervals are timed (tests shrink minutes to seconds). */
  policyEvery?: AgentDeps['policyEvery'];
  policyRateLimit?: AgentDeps['policyRateLimit'];
}

/** Enrols and starts the real agent code (enrol, link, reporter, collectors) against a server. */
export async function startRealAgent(options: RealAgentOptions) {
  const state = new AgentState(options.stateDir);
  if (!state.readIdentity()) await enroll({ serverUrl: options.baseUrl, token: options.joinToken, hostname: 'system-test', state });
  const identity = state.readIdentity();
  if (!identity) throw new Error('enrolment wrote no identity');
  const agent = buildAgent({
    state,
    identity,
    collect: () =>
      collectInventory({
        run: runCommand,
        readFile: async (p) => (await import('node:fs/promises')).readFile(p, 'utf8'),
        si,
        platform: process.platform,
        agentVersion: 'test',
        dpkgAdmindir: options.dpkgAdmindir,
      }),
    collectUpdates: async () => {
      if (!options.apt) return { updates: [], sources: [] };
      const { updates, sources } = await collectPendingUpdates({
        run: runCommand,
        platform: process.platform,
        aptOptions: options.apt.aptOptions,
        aptEnv: options.apt.env,
      });
      return { updates, sources };
    },
    ...(options.executors ? { executors: options.executors } : {}),
    ...(options.policyPorts ? { policyPorts: options.policyPorts } : {}),
    ...(options.policyEvery ? { policyEvery: options.policyEvery } : {}),
    ...(options.policyRateLimit ? { policyRateLimit: options.policyRateLimit } : {}),
    logger: pino({ level: 'silent' }),
    scheduler: { schedule: () => () => {} },
    inventoryCron: '0 0 1 1 *',
    backoffBaseMs: 50,
    backoffCapMs: 500,
  });
  agent.start();
  return { agent, identity, state };
}

/** Installed packages as dpkg itself reports them: configured status (installed or trigger-pending). */
export async function dpkgInstalled(admindir?: string): Promise<string[]> {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: ${Field} is dpkg-query's format syntax.
  const format = '-f=${db:Status-Abbrev}\t${Package}\t${Version}\t${Architecture}\n';
  const args = [...(admindir ? [`--admindir=${admindir}`] : []), '-W', format];
  const { stdout } = await exec('dpkg-query', args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout
    .split('\n')
    .filter((l) => /^.[itW]/.test(l))
    .map((l) => l.split('\t').slice(1).join(' '))
    .sort();
}
