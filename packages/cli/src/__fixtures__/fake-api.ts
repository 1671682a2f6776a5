import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import type { CliIo } from '../command.js';
import { isUnsafeCodePoint } from '../output.js';
import { runCli } from '../run-cli.js';

/**
 * A stand-in Brier API for CLI unit tests: a real HTTP server on 127.0.0.1:0 that answers canned
 * JSON per "METHOD /path" and records every request as it arrived on the wire.
 */

export interface RecordedRequest {
  method: string;
  /** The raw request target, exactly as the client encoded it. */
  rawUrl: string;
  pathname: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Parsed JSON; undefined when empty or sent as raw bytes (application/zip, application/octet-stream). */
  body: unknown;
  /** The body exactly as it arrived. */
  rawBody: Buffer;
}

export interface Reply {
  status?: number;
  /** A string or Buffer is sent as is, anything else as JSON. */
  body?: unknown;
  contentType?: string;
}

export type Route = Reply | ((req: RecordedRequest) => Reply);

export interface FakeApi {
  url: string;
  requests: RecordedRequest[];
  routes: Map<string, Route>;
  close: () => Promise<void>;
}

export function problem(status: number, title: string, code: string, detail?: string): Reply {
  return { status, contentType: 'application/problem+json', body: { type: 'about:blank', title, status, code, detail } };
}

export async function startFakeApi(routes: Record<string, Route> = {}): Promise<FakeApi> {
  const table = new Map(Object.entries(routes));
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      const text = rawBody.toString('utf8');
      const raw = /^application\/(zip|octet-stream)\b/.test(req.headers['content-type'] ?? '');
      const url = new URL(req.url ?? '/', 'http://fake');
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        rawUrl: req.url ?? '',
        pathname: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: text === '' || raw ? undefined : JSON.parse(text),
        rawBody,
      };
      requests.push(recorded);
      const route = table.get(`${recorded.method} ${recorded.pathname}`);
      const reply = route === undefined ? problem(404, 'Not found', 'not_found') : typeof route === 'function' ? route(recorded) : route;
      const status = reply.status ?? 200;
      if (reply.body === undefined) {
        res.writeHead(status).end();
        return;
      }
      const body = typeof reply.body === 'string' || Buffer.isBuffer(reply.body) ? reply.body : JSON.stringify(reply.body);
      res.writeHead(status, { 'content-type': reply.contentType ?? 'application/json' }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    routes: table,
    close: () =>
      new Promise<void>((resolve) => {
        // fetch keeps connections alive; without this close() waits for them to time out.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface TestIo {
  io: CliIo;
  stdout: () => string;
  stderr: () => string;
  /** Questions asked through io.prompt, in order. */
  prompts: { question: string; secret: boolean }[];
}

export function testIo(options: {
  configDir: string;
  env?: Record<string, string | undefined>;
  stdin?: string;
  /** Answers for io.prompt; when absent the CLI behaves as if not on a terminal. */
  answers?: string[];
}): TestIo {
  let out = '';
  let err = '';
  const prompts: { question: string; secret: boolean }[] = [];
  const answers = options.answers === undefined ? undefined : [...options.answers];
  const io: CliIo = {
    stdout: (s) => {
      out += s;
    },
    stderr: (s) => {
      err += s;
    },
    env: options.env ?? {},
    fetch: globalThis.fetch,
    readStdin: async () => options.stdin ?? '',
    prompt:
      answers === undefined
        ? undefined
        : async (question, { secret }) => {
            prompts.push({ question, secret });
            const answer = answers.shift();
            if (answer === undefined) throw new Error(`unexpected prompt: ${question}`);
            return answer;
          },
    configDir: options.configDir,
  };
  return { io, stdout: () => out, stderr: () => err, prompts };
}

export async function tempConfigDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'brier-cli-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  prompts: TestIo['prompts'];
}

export interface FakeApiHarness {
  /** The current test's fake API; a stable handle, so it can be destructured at module level. */
  api: FakeApi;
  /** Runs the CLI against `api` with BRIER_SERVER and BRIER_TOKEN=tok set, in a fresh config dir. */
  cli: (args: string[], extra?: { stdin?: string; answers?: string[] }) => Promise<CliRun>;
}

/**
 * Registers beforeEach/afterEach hooks that give every test its own fake API answering `routes`
 * and its own temporary config directory, and tear both down afterwards.
 */
export function useFakeApi(routes: Record<string, Route>): FakeApiHarness {
  let current: FakeApi | undefined;
  let configDir = '';
  let cleanup: () => Promise<void> = async () => {};

  beforeEach(async () => {
    current = await startFakeApi(routes);
    ({ dir: configDir, cleanup } = await tempConfigDir());
  });

  afterEach(async () => {
    await current?.close();
    await cleanup();
  });

  const now = (): FakeApi => {
    if (current === undefined) throw new Error('the fake API only runs inside a test');
    return current;
  };
  const api: FakeApi = {
    get url() {
      return now().url;
    },
    get requests() {
      return now().requests;
    },
    get routes() {
      return now().routes;
    },
    close: () => now().close(),
  };

  async function cli(args: string[], extra: { stdin?: string; answers?: string[] } = {}): Promise<CliRun> {
    const t = testIo({ configDir, env: { BRIER_SERVER: api.url, BRIER_TOKEN: 'tok' }, ...extra });
    const code = await runCli(args, t.io);
    return { code, stdout: t.stdout(), stderr: t.stderr(), prompts: t.prompts };
  }

  return { api, cli };
}

export const HOSTS = [
  {
    id: 'h-1',
    hostname: 'web-01',
    status: 'approved',
    online: true,
    lastSeenAt: '2024-05-01T12:00:00.000Z',
    enrolledAt: '2024-04-01T08:00:00.000Z',
    os: { platform: 'linux', distro: 'debian', release: '12', codename: 'bookworm', kernel: '6.1.0-18-amd64', arch: 'amd64' },
    packageCount: 612,
    inventoryAt: '2024-05-01T11:59:00.000Z',
  },
  {
    id: 'h-2',
    hostname: 'evil\u001b[31m\u202e',
    status: 'pending',
    online: false,
    lastSeenAt: null,
    enrolledAt: '2024-04-02T08:00:00.000Z',
    os: { platform: 'linux', distro: 'ubuntu', release: '22.04' },
    packageCount: 0,
    inventoryAt: null,
  },
];

/** Control and bidi characters in `text` other than the newlines that end output lines. */
export function rawControls(text: string): string[] {
  return [...text].filter((ch) => ch !== '\n' && isUnsafeCodePoint(ch.codePointAt(0) ?? 0));
}
