import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fingerprint, generateKeyPair, type HostFacts } from '@brier/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentState, type Identity, type SentInventory, StateError } from './agent-state.js';
import { writeFileAtomic } from './atomic-write.js';

let root: string;

beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'brier-agent-state-'));
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

function modeOf(file: string): number {
  return statSync(file).mode & 0o777;
}

function identity(): Identity {
  const agent = generateKeyPair();
  const server = generateKeyPair();
  return {
    hostId: '6f1c2f4e-8a53-4a8e-9d7e-2b1f0c3d4e5f',
    privateKeyPem: agent.privateKeyPem,
    publicKey: agent.publicKey,
    serverUrl: 'http://127.0.0.1:8080',
    serverPublicKey: server.publicKey,
    serverFingerprint: fingerprint(server.publicKey),
    enrolledAt: '2024-05-01T12:00:00.000Z',
  };
}

const facts: HostFacts = {
  hostname: 'web-1',
  os: { platform: 'linux', distro: 'Debian GNU/Linux', release: '12', codename: 'bookworm', arch: 'x64' },
  hardware: { cores: 4, memoryBytes: 8 * 1024 ** 3 },
  network: [{ name: 'eth0', mac: '52:54:00:12:34:56', ipv4: ['10.0.0.5'], ipv6: [] }],
  agentVersion: '0.1.0',
};

const sent: SentInventory = {
  hash: 'c'.repeat(64),
  packages: [
    { ecosystem: 'dpkg', name: 'bash', version: '5.2.15-2+b2', arch: 'amd64' },
    {
      ecosystem: 'dpkg',
      name: 'openssl',
      version: '3.0.11-1~deb12u2',
      arch: 'amd64',
      source: 'openssl',
      sourceVersion: '3.0.11-1~deb12u2',
    },
  ],
  facts,
};

describe('writeFileAtomic', () => {
  it('writes the content with mode 0600 and leaves no temporary file behind', () => {
    const file = path.join(root, 'identity.json');
    writeFileAtomic(file, 'secret');
    expect(readFileSync(file, 'utf8')).toBe('secret');
    expect(modeOf(file)).toBe(0o600);
    expect(readdirSync(root)).toEqual(['identity.json']);
  });

  it('replaces an existing file whole, and gives it the new mode', () => {
    const file = path.join(root, 'data.json');
    writeFileSync(file, 'old content that is longer than the new one', { mode: 0o644 });
    writeFileAtomic(file, 'new');
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(modeOf(file)).toBe(0o600);
    expect(readdirSync(root)).toEqual(['data.json']);
  });

  it('does not inherit the mode of a stale temporary file left by a crash', () => {
    const file = path.join(root, 'identity.json');
    const stale = path.join(root, `.identity.json.${process.pid}.tmp`);
    writeFileSync(stale, 'half a key', { mode: 0o666 });
    chmodSync(stale, 0o666);
    writeFileAtomic(file, 'whole key');
    expect(modeOf(file)).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toBe('whole key');
    expect(readdirSync(root)).toEqual(['identity.json']);
  });

  it('honours another mode when asked', () => {
    const file = path.join(root, 'public.txt');
    writeFileAtomic(file, 'x', 0o640);
    expect(modeOf(file)).toBe(0o640);
  });

  it('throws and leaves no temporary file when the target cannot be replaced', () => {
    // Renaming a file over a non-empty directory fails.
    const target = path.join(root, 'a-directory');
    mkdirSync(path.join(target, 'child'), { recursive: true });
    expect(() => writeFileAtomic(target, 'data')).toThrow();
    expect(readdirSync(root)).toEqual(['a-directory']);
  });
});

describe('AgentState', () => {
  it('has no identity and no sent inventory in an empty or missing directory', () => {
    expect(new AgentState(root).readIdentity()).toBeUndefined();
    expect(new AgentState(root).readSentInventory()).toBeUndefined();
    const missing = new AgentState(path.join(root, 'nowhere'));
    expect(missing.readIdentity()).toBeUndefined();
    expect(missing.readSentInventory()).toBeUndefined();
  });

  it('creates its directory with mode 0700, parents included', () => {
    const dir = path.join(root, 'var', 'lib', 'brier-agent');
    new AgentState(dir).writeIdentity(identity());
    expect(statSync(dir).isDirectory()).toBe(true);
    expect(modeOf(dir)).toBe(0o700);
  });

  it('stores the identity in identity.json with mode 0600 and reads it back unchanged', () => {
    const state = new AgentState(path.join(root, 'state'));
    const id = identity();
    state.writeIdentity(id);
    expect(modeOf(path.join(state.dir, 'identity.json'))).toBe(0o600);
    expect(new AgentState(state.dir).readIdentity()).toEqual(id);
    expect(readdirSync(state.dir)).toEqual(['identity.json']);
  });

  it('stores the acknowledged inventory and reads it back unchanged, with or without facts', () => {
    const state = new AgentState(path.join(root, 'state'));
    state.writeSentInventory(sent);
    expect(new AgentState(state.dir).readSentInventory()).toEqual(sent);
    expect(modeOf(path.join(state.dir, 'inventory.json'))).toBe(0o600);
    const noFacts = { ...sent, facts: null };
    state.writeSentInventory(noFacts);
    expect(state.readSentInventory()).toEqual(noFacts);
  });

  it('reads a damaged inventory cache as no cache at all', () => {
    const state = new AgentState(root);
    const file = path.join(root, 'inventory.json');
    for (const damaged of [
      '',
      '{"hash":',
      'null',
      '[]',
      '{"hash":"x"}',
      JSON.stringify({ ...sent, packages: [{ name: 'no ecosystem' }] }),
    ]) {
      writeFileSync(file, damaged);
      expect(state.readSentInventory(), damaged).toBeUndefined();
    }
  });

  it('throws a StateError naming the file when identity.json is not JSON', () => {
    writeFileSync(path.join(root, 'identity.json'), '{"hostId": "6f1c');
    const read = () => new AgentState(root).readIdentity();
    expect(read).toThrow(StateError);
    expect(read).toThrow(`${path.join(root, 'identity.json')} is damaged`);
  });

  it('throws a StateError naming the file and the field when identity.json lacks a field', () => {
    const { privateKeyPem: _dropped, ...partial } = identity();
    writeFileSync(path.join(root, 'identity.json'), JSON.stringify(partial));
    const read = () => new AgentState(root).readIdentity();
    expect(read).toThrow(StateError);
    expect(read).toThrow(/identity\.json is damaged.*privateKeyPem/);
  });

  it('throws a StateError when identity.json holds a host ID or key the protocol cannot carry', () => {
    for (const damage of [{ hostId: 'host-1' }, { serverPublicKey: 'short' }, { serverUrl: 'ftp://x' }]) {
      writeFileSync(path.join(root, 'identity.json'), JSON.stringify({ ...identity(), ...damage }));
      expect(() => new AgentState(root).readIdentity(), JSON.stringify(damage)).toThrow(StateError);
    }
  });

  it('throws a StateError when the directory cannot be created', () => {
    const blocker = path.join(root, 'file');
    writeFileSync(blocker, '');
    const state = new AgentState(path.join(blocker, 'state'));
    expect(() => state.writeIdentity(identity())).toThrow(StateError);
    expect(() => state.writeIdentity(identity())).toThrow(/cannot create state directory/);
  });
});
