/**
 * Fan-out benchmark: one wave of one deployment targets N simulated agents (10,000 by default), and we
 * print the time from the engine `tick()` that starts the wave to each agent's receipt of its signed
 * `assignment.offer` (p50/p99/max), next to the time Debian's `nats-server` on loopback takes to deliver
 * one message of the same size to N subscribers. See bench/README.md.
 *
 *   node --import tsx bench/fanout.ts [--agents N] [--workers W] [--skip-nats]
 *
 * The server (createTestServer on in-memory PGlite) runs in this process; the agents and the NATS
 * subscribers run in W child processes (each has its own file-descriptor budget: 10,000 agents need
 * 10,000 server sockets here and 10,000 client sockets there). Receipt times are taken with
 * process.hrtime.bigint(), the machine-wide monotonic clock, so they compare across the processes.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants as fsConstants } from 'node:fs';
import { createServer, connect as netConnect, type Socket } from 'node:net';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  AGENT_WS_PATH,
  AgentMessages,
  Codec,
  generateKeyPair,
  importPrivateKey,
  PURPOSE,
  randomToken,
  ServerMessages,
  signFields,
} from '@brier/protocol';
import WebSocket from 'ws';
import { createStores } from '../packages/server/src/store/index.js';
import { createTestServer } from '../packages/server/src/testing/test-server.js';
import { positiveInt } from './support/args.js';

export interface FanoutBenchOptions {
  agents: number;
  workers: number;
  nats: boolean;
}

export function parseFanoutArgs(argv: readonly string[]): FanoutBenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      agents: { type: 'string', default: '10000' },
      workers: { type: 'string', default: '2' },
      'skip-nats': { type: 'boolean', default: false },
    },
    strict: true,
  });
  return { agents: positiveInt('agents', values.agents), workers: positiveInt('workers', values.workers), nats: !values['skip-nats'] };
}

const WORKER_FLAG = '--fanout-worker';
/** How many connections each worker opens at once while setting up. */
const CONNECT_IN_FLIGHT = 200;
const SUBJECT = 'brier.fanout';

// ---------------------------------------------------------------------------------------------
// Messages between this process and the worker processes (IPC with 'advanced' serialization).

type ToWorker =
  | { cmd: 'brier'; url: string; fingerprint: string; agents: Array<{ hostId: string; privateKeyPem: string }> }
  | { cmd: 'nats'; port: number; count: number }
  | { cmd: 'close' };

type FromWorker =
  | { ev: 'ready'; count: number }
  | { ev: 'received'; times: bigint[]; bytes: number; sample: string; wrongHost: number }
  | { ev: 'failed'; message: string };

function emfileHint(message: string): string {
  return /EMFILE|ENFILE/.test(message)
    ? `${message}: out of file descriptors; run \`ulimit -n 65536\` (or as high as the hard limit allows) first, or raise --workers`
    : message;
}

// ---------------------------------------------------------------------------------------------
// Worker side: lean agents over `ws`, and NATS subscribers over node:net.

async function inBatches<T>(items: readonly T[], limit: number, work: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < items.length; i = next++) await work(items[i] as T, i);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

function runWorker(): void {
  const send = (m: FromWorker) => process.send?.(m);
  const closers: Array<() => void> = [];
  const fail = (err: unknown) => send({ ev: 'failed', message: emfileHint(err instanceof Error ? err.message : String(err)) });

  async function brier(msg: Extract<ToWorker, { cmd: 'brier' }>): Promise<void> {
    const codec = new Codec(ServerMessages, AgentMessages);
    const wsUrl = msg.url.replace(/^http/, 'ws') + AGENT_WS_PATH;
    const times: bigint[] = [];
    let bytes = 0;
    let sample = '';
    let wrongHost = 0;
    await inBatches(msg.agents, CONNECT_IN_FLIGHT, async (agent) => {
      const key = importPrivateKey(agent.privateKeyPem);
      const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
      closers.push(() => ws.terminate());
      await new Promise<void>((resolve, reject) => {
        ws.on('error', reject);
        ws.on('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
        ws.on('close', (code, reason) => reject(new Error(`closed during setup: ${code} ${reason.toString()}`)));
        ws.on('message', (data) => {
          const at = process.hrtime.bigint();
          const text = String(data);
          const frame = JSON.parse(text) as { type: string; body: Record<string, unknown> };
          if (frame.type === 'challenge') {
            const signature = signFields(key, PURPOSE.authAnswer, [String(frame.body.nonce), agent.hostId, msg.fingerprint]);
            ws.send(codec.encode('auth', { hostId: agent.hostId, nonce: randomToken(), signature }));
          } else if (frame.type === 'auth.ok') {
            resolve();
          } else if (frame.type === 'assignment.offer') {
            times.push(at);
            bytes = Buffer.byteLength(text);
            if (sample === '') sample = text;
            const signed = frame.body.signed as { assignment?: { hostId?: string } } | undefined;
            if (signed?.assignment?.hostId !== agent.hostId) wrongHost += 1;
            if (times.length === msg.agents.length) send({ ev: 'received', times, bytes, sample, wrongHost });
          } else if (frame.type === 'error') {
            reject(new Error(`server error: ${JSON.stringify(frame.body)}`));
          }
        });
      });
    });
    send({ ev: 'ready', count: msg.agents.length });
  }

  async function nats(msg: Extract<ToWorker, { cmd: 'nats' }>): Promise<void> {
    const times: bigint[] = [];
    let bytes = 0;
    await inBatches(
      Array.from({ length: msg.count }, (_, i) => i),
      CONNECT_IN_FLIGHT,
      async () => {
        const socket = netConnect(msg.port, '127.0.0.1');
        socket.setNoDelay(true);
        closers.push(() => socket.destroy());
        await new Promise<void>((resolve, reject) => {
          socket.on('error', reject);
          natsReader(socket, {
            onPong: resolve,
            onMsg: (payload, at) => {
              times.push(at);
              bytes = payload.length;
              if (times.length === msg.count) send({ ev: 'received', times, bytes, sample: '', wrongHost: 0 });
            },
            onError: (line) => reject(new Error(`nats-server: ${line}`)),
          });
          socket.write(`CONNECT {"verbose":false,"pedantic":false}\r\nSUB ${SUBJECT} 1\r\nPING\r\n`);
        });
      },
    );
    send({ ev: 'ready', count: msg.count });
  }

  process.on('message', (msg: ToWorker) => {
    if (msg.cmd === 'brier') brier(msg).catch(fail);
    else if (msg.cmd === 'nats') nats(msg).catch(fail);
    else {
      for (const close of closers.splice(0)) close();
      process.disconnect();
    }
  });
}

/**
 * The NATS text protocol, the little a subscriber needs: INFO and +OK are ignored, PING is answered,
 * PONG confirms our SUB was processed, `MSG <subject> <sid> [reply] <bytes>` is followed by the payload.
 */
function natsReader(socket: Socket, on: { onPong(): void; onMsg(payload: Buffer, at: bigint): void; onError(line: string): void }): void {
  let buffer: Buffer = Buffer.alloc(0);
  let pending = -1; // payload bytes awaited after a MSG line
  socket.on('data', (chunk: Buffer) => {
    const at = process.hrtime.bigint();
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    for (;;) {
      if (pending >= 0) {
        if (buffer.length < pending + 2) return;
        const payload = buffer.subarray(0, pending);
        buffer = buffer.subarray(pending + 2);
        pending = -1;
        on.onMsg(payload, at);
        continue;
      }
      const end = buffer.indexOf('\r\n');
      if (end < 0) return;
      const line = buffer.subarray(0, end).toString('latin1');
      buffer = buffer.subarray(end + 2);
      if (line.startsWith('MSG ')) pending = Number(line.split(' ').at(-1));
      else if (line === 'PING') socket.write('PONG\r\n');
      else if (line === 'PONG') on.onPong();
      else if (line.startsWith('-ERR')) on.onError(line);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Coordinator side.

class Workers {
  private constructor(readonly procs: ChildProcess[]) {}

  static start(count: number): Workers {
    const file = fileURLToPath(import.meta.url);
    const procs = Array.from({ length: count }, () =>
      fork(file, [WORKER_FLAG], { execArgv: process.execArgv, serialization: 'advanced', stdio: 'inherit' }),
    );
    return new Workers(procs);
  }

  /** Sends each worker its message and resolves with one answer of `ev` from each. */
  async ask<E extends FromWorker['ev']>(messages: ToWorker[], ev: E, timeoutMs: number): Promise<Extract<FromWorker, { ev: E }>[]> {
    return Promise.all(
      this.procs.map(
        (p, i) =>
          new Promise<Extract<FromWorker, { ev: E }>>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`worker ${i}: no ${ev} within ${timeoutMs / 1000}s`)), timeoutMs);
            const onMessage = (m: FromWorker) => {
              if (m.ev === 'failed') reject(new Error(`worker ${i}: ${m.message}`));
              else if (m.ev !== ev) return;
              else resolve(m as Extract<FromWorker, { ev: E }>);
              clearTimeout(timer);
              p.off('message', onMessage);
            };
            p.on('message', onMessage);
            p.once('exit', (code) => reject(new Error(`worker ${i} exited (${code}) before ${ev}`)));
            const msg = messages[i];
            if (msg) p.send(msg);
          }),
      ),
    );
  }

  /** Arms a wait for `ev` without sending anything (the message comes when the work arrives). */
  expect<E extends FromWorker['ev']>(ev: E, timeoutMs: number): Promise<Extract<FromWorker, { ev: E }>[]> {
    return this.ask([], ev, timeoutMs);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.procs.map(async (p) => {
        if (p.exitCode !== null) return;
        const exited = once(p, 'exit');
        if (p.connected) p.send({ cmd: 'close' } satisfies ToWorker);
        const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}

function split<T>(items: readonly T[], parts: number): T[][] {
  return Array.from({ length: parts }, (_, w) => items.filter((_, i) => i % parts === w));
}

interface Result {
  system: string;
  receivers: number;
  bytes: number;
  /** Milliseconds from the start instant to each receipt, sorted. */
  latencies: number[];
  anchor: boolean;
  note: string;
}

function latenciesFrom(start: bigint, answers: ReadonlyArray<{ times: bigint[] }>): number[] {
  return answers.flatMap((a) => a.times.map((t) => Number(t - start) / 1e6)).sort((x, y) => x - y);
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

/** Timeout for a setup or delivery phase: generous, but the run always ends. */
function phaseTimeout(n: number): number {
  return 60_000 + n * 30;
}

async function brierFanout(options: FanoutBenchOptions, workers: Workers): Promise<{ result: Result; sample: string }> {
  const n = options.agents;
  const server = await createTestServer({
    config: {
      handshakesPerSecond: 100_000,
      handshakeBurst: 1_000_000,
      authTimeoutMs: 120_000,
      heartbeatIntervalMs: 600_000,
    },
  });
  try {
    const url = await server.listen();
    // Set-up, untimed: hosts with real Ed25519 keys straight through the hosts store.
    let t = performance.now();
    const stores = createStores(server.database.db);
    const agents: Array<{ hostId: string; privateKeyPem: string }> = [];
    const at = new Date();
    for (let i = 0; i < n; i++) {
      const keys = generateKeyPair();
      const host = await stores.hosts.create({
        hostname: `fanout-${String(i).padStart(5, '0')}`,
        publicKey: keys.publicKey,
        status: 'approved',
        enrollmentTokenId: null,
        at,
      });
      agents.push({ hostId: host.id, privateKeyPem: keys.privateKeyPem });
    }
    console.log(`  setup: ${n} hosts with Ed25519 keys in ${((performance.now() - t) / 1000).toFixed(1)}s`);

    t = performance.now();
    const parts = split(agents, workers.procs.length);
    await workers.ask(
      parts.map((part) => ({ cmd: 'brier', url, fingerprint: server.identity.fingerprint, agents: part })),
      'ready',
      phaseTimeout(n) * 4,
    );
    const connected = server.app.services.gateway.connectedCount();
    if (connected !== n) throw new Error(`only ${connected} of ${n} agents are connected`);
    console.log(`  setup: ${n} agents connected and authenticated over WebSockets in ${((performance.now() - t) / 1000).toFixed(1)}s`);

    const admin = await stores.users.findByUsername('admin');
    if (!admin) throw new Error('no admin user');
    const approver = await server.app.services.auth.createUser({
      username: 'approver',
      password: 'approver-password-bench',
      role: 'admin',
    });
    const deployments = server.app.services.deployments;
    const created = await deployments.create(
      { id: admin.id, username: admin.username, role: admin.role },
      {
        name: 'fan-out bench',
        packages: [{ name: 'openssl', version: '3.0.15-1~deb12u1' }],
        targets: { hostIds: agents.map((a) => a.hostId) },
        waves: [{ name: 'everyone', percent: 100, bakeMinutes: 0 }],
      },
    );
    if (created.state === 'awaiting_approval')
      await deployments.approve({ id: approver.id, username: approver.username, role: approver.role }, created.id);

    console.log(`  setup: deployment ${created.id} created and approved`);
    const received = workers.expect('received', phaseTimeout(n));
    const start = process.hrtime.bigint();
    await deployments.tick();
    const tickMs = Number(process.hrtime.bigint() - start) / 1e6;
    const answers = await received;
    const wrongHost = answers.reduce((s, a) => s + a.wrongHost, 0);
    if (wrongHost > 0) throw new Error(`${wrongHost} agents received an assignment for another host`);
    const latencies = latenciesFrom(start, answers);
    if (latencies.length !== n) throw new Error(`${latencies.length} of ${n} agents received their assignment`);
    const bytes = answers[0]?.bytes ?? 0;
    const result: Result = {
      system: 'Brier: tick() to assignment.offer',
      receivers: n,
      bytes,
      latencies,
      anchor: false,
      note: `tick() returned after ${(tickMs / 1000).toFixed(2)}s (signs, stores and sends each assignment)`,
    };
    return { result, sample: answers[0]?.sample ?? '' };
  } finally {
    // The agents hang up first: the server then closes no live sessions.
    await workers.stop();
    await server.close();
  }
}

async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const address = probe.address();
  probe.close();
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function natsBinary(): string | undefined {
  return ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].find((path) => {
    try {
      accessSync(path, fsConstants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

async function natsVersion(bin: string): Promise<string> {
  const child = spawn(bin, ['--version']);
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  await once(child, 'exit');
  return out.trim().replace(/^nats-server:\s*/, '');
}

async function natsFanout(bin: string, n: number, payload: Buffer, workers: Workers): Promise<Result> {
  const port = await freePort();
  const server = spawn(bin, ['-a', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  server.stderr.on('data', (d: Buffer) => {
    log += d.toString();
  });
  try {
    // Wait until it accepts connections.
    const publisher = await (async () => {
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          const socket = netConnect(port, '127.0.0.1');
          await once(socket, 'connect');
          return socket;
        } catch (err) {
          if (Date.now() > deadline || server.exitCode !== null) throw new Error(`nats-server did not start: ${String(err)}\n${log}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    })();
    publisher.setNoDelay(true);
    const ponged = new Promise<void>((resolve, reject) => {
      natsReader(publisher, { onPong: resolve, onMsg: () => {}, onError: (line) => reject(new Error(line)) });
    });
    publisher.write('CONNECT {"verbose":false,"pedantic":false}\r\nPING\r\n');
    await ponged;

    const counts = split(
      Array.from({ length: n }, (_, i) => i),
      workers.procs.length,
    ).map((p) => p.length);
    const t = performance.now();
    await workers.ask(
      counts.map((count) => ({ cmd: 'nats', port, count })),
      'ready',
      phaseTimeout(n) * 4,
    );
    console.log(`  setup: ${n} NATS subscribers connected (one TCP connection each) in ${((performance.now() - t) / 1000).toFixed(1)}s`);

    const received = workers.expect('received', phaseTimeout(n));
    const start = process.hrtime.bigint();
    publisher.write(Buffer.concat([Buffer.from(`PUB ${SUBJECT} ${payload.length}\r\n`), payload, Buffer.from('\r\n')]));
    const answers = await received;
    const latencies = latenciesFrom(start, answers);
    if (latencies.length !== n) throw new Error(`${latencies.length} of ${n} subscribers received the message`);
    publisher.destroy();
    return {
      system: 'NATS: PUB to MSG (anchor)',
      receivers: n,
      bytes: answers[0]?.bytes ?? payload.length,
      latencies,
      anchor: true,
      note: 'one PUB, fanned out by nats-server',
    };
  } finally {
    server.kill('SIGTERM');
    if (server.exitCode === null) await once(server, 'exit');
  }
}

function formatTable(results: readonly Result[]): string {
  const anchor = results.find((r) => r.anchor);
  const header = ['system', 'receivers', 'frame bytes', 'p50 ms', 'p99 ms', 'max ms', 'max vs NATS'];
  const body = results.map((r) => {
    const max = percentile(r.latencies, 100);
    return [
      r.system,
      r.receivers.toLocaleString('en-US'),
      r.bytes.toLocaleString('en-US'),
      percentile(r.latencies, 50).toFixed(1),
      percentile(r.latencies, 99).toFixed(1),
      max.toFixed(1),
      anchor ? `${(max / percentile(anchor.latencies, 100)).toFixed(1)}x` : 'n/a',
    ];
  });
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => (row[c] as string).length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, c) => (c > 0 ? cell.padStart(widths[c] as number) : cell.padEnd(widths[c] as number))).join(' | ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...body.map(line)].join('\n');
}

function loadAverage(): string {
  return loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
}

export async function runFanout(options: FanoutBenchOptions, command: string): Promise<void> {
  const cpu = cpus();
  console.log('# Fan-out: one wave to N agents vs one NATS message to N subscribers');
  console.log(`command:  ${command}`);
  console.log(`date:     ${new Date().toISOString()}`);
  console.log(
    `machine:  node ${process.version}, ${cpu.length} CPUs (${cpu[0]?.model.trim() ?? 'unknown'}), ${Math.round(totalmem() / 1024 ** 3)} GiB RAM, ` +
      `load average ${loadAverage()} at start`,
  );
  console.log(
    `setup:    server on PGlite in memory in this process; ${options.agents} agents over loopback in ${options.workers} child processes`,
  );

  const results: Result[] = [];
  const report = (r: Result) => {
    results.push(r);
    const f = (p: number) => percentile(r.latencies, p).toFixed(1);
    console.log(`  ${r.system}: p50 ${f(50)} ms, p99 ${f(99)} ms, max ${f(100)} ms (${r.note})`);
  };

  const workers = Workers.start(options.workers);
  try {
    const brier = await brierFanout(options, workers);
    report(brier.result);

    const bin = natsBinary();
    if (!options.nats) console.log('NATS:     skipped (--skip-nats)');
    else if (!bin)
      console.log(
        'NATS:     anchor unavailable: nats-server is not installed (Debian: `apt-get install -y nats-server`); Brier figures only',
      );
    else {
      console.log(`NATS:     nats-server ${await natsVersion(bin)} on 127.0.0.1, default settings`);
      const natsWorkers = Workers.start(options.workers);
      try {
        // The same bytes an agent received: one real assignment.offer frame.
        const payload = Buffer.from(brier.sample || 'x'.repeat(brier.result.bytes));
        report(await natsFanout(bin, options.agents, payload, natsWorkers));
      } finally {
        await natsWorkers.stop();
      }
    }
  } catch (err) {
    throw new Error(emfileHint(err instanceof Error ? err.message : String(err)), { cause: err });
  } finally {
    await workers.stop();
  }

  console.log(`load average ${loadAverage()} at end`);
  console.log('');
  console.log(formatTable(results));
  console.log('');
  console.log(
    'ms = from the start instant (before tick() / before the PUB is written) to receipt in the agent or subscriber, on the machine-wide monotonic clock.',
  );
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  const argv = process.argv.slice(2);
  if (argv[0] === WORKER_FLAG) runWorker();
  else await runFanout(parseFanoutArgs(argv), ['node --import tsx bench/fanout.ts', ...argv].join(' '));
}
