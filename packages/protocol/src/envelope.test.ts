import { afterEach, describe, expect, it } from 'vitest';
import { Codec, newMessageId, parseJsonStrict } from './envelope.js';
import { BrierError, type ErrorCode } from './errors.js';
import type { PackageEntry } from './inventory.js';
import { AgentMessages, MAX_FRAME_BYTES, ServerMessages } from './messages.js';

/** The server's side: decodes what agents send, encodes what the server sends. */
const codec = new Codec(AgentMessages, ServerMessages);

const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);
const pkg: PackageEntry = { ecosystem: 'dpkg', name: 'bash', version: '5.2.15-2+b2', arch: 'amd64' };
const deltaBody = { baseHash: HASH_A, hash: HASH_B, upsert: [pkg], remove: [] };

function frame(value: unknown): string {
  return JSON.stringify(value);
}

function envelope(type: string, body: unknown, extra: Record<string, unknown> = {}): string {
  return frame({ v: 1, type, id: 'msg-1', body, ...extra });
}

/** Decodes `input` expecting a refusal, and returns its code. */
function decodeError(input: string | Buffer): ErrorCode {
  try {
    codec.decode(input);
  } catch (err) {
    expect(err).toBeInstanceOf(BrierError);
    return (err as BrierError).code;
  }
  throw new Error(`decode accepted ${String(input).slice(0, 200)}`);
}

function prototypeIsClean(): void {
  const probe: Record<string, unknown> = {};
  expect(probe.polluted).toBeUndefined();
  expect(Object.prototype).not.toHaveProperty('polluted');
}

afterEach(() => {
  prototypeIsClean();
});

describe('Codec.decode', () => {
  it('returns type, id and body of a valid frame, given as text or as bytes', () => {
    const text = envelope('inventory.delta', deltaBody);
    expect(codec.decode(text)).toEqual({ type: 'inventory.delta', id: 'msg-1', body: deltaBody });
    expect(codec.decode(Buffer.from(text))).toEqual({ type: 'inventory.delta', id: 'msg-1', body: deltaBody });
  });

  it('refuses frames that are not JSON', () => {
    for (const text of ['', 'not json', '{', '{"v":1,', "{'v':1}", 'undefined', 'NaN']) {
      expect(decodeError(text), JSON.stringify(text)).toBe('invalid_message');
    }
  });

  it('refuses JSON that is not an envelope object: arrays, null, numbers, strings, booleans', () => {
    for (const text of ['[]', '[{"v":1}]', 'null', '1', '0', '"inventory.delta"', 'true']) {
      expect(decodeError(text), text).toBe('invalid_message');
    }
  });

  it('refuses any protocol version but 1', () => {
    for (const v of [0, 2, '1', null, 1.5])
      expect(decodeError(envelope('inventory.delta', deltaBody, { v })), String(v)).toBe('invalid_message');
    expect(decodeError(frame({ type: 'inventory.delta', id: 'x', body: deltaBody }))).toBe('invalid_message');
  });

  it('refuses a missing, empty, oversized or malformed id', () => {
    expect(decodeError(frame({ v: 1, type: 'inventory.delta', body: deltaBody }))).toBe('invalid_message');
    for (const id of ['', 'x'.repeat(65), 'has space', 'a/b', 7, null]) {
      expect(decodeError(envelope('inventory.delta', deltaBody, { id })), JSON.stringify(id)).toBe('invalid_message');
    }
    expect(codec.decode(envelope('inventory.delta', deltaBody, { id: 'x'.repeat(64) })).id).toBe('x'.repeat(64));
  });

  it('refuses envelopes with a missing or non-object body, or extra properties', () => {
    expect(decodeError(frame({ v: 1, type: 'inventory.delta', id: 'x' }))).toBe('invalid_message');
    for (const body of [null, [], 'text', 3])
      expect(decodeError(envelope('inventory.delta', body)), JSON.stringify(body)).toBe('invalid_message');
    expect(decodeError(envelope('inventory.delta', deltaBody, { hostId: 'someone-else' }))).toBe('invalid_message');
  });

  it('refuses message types it does not accept, including the names of Object.prototype members', () => {
    const names = [
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
      'valueOf',
      'prototype',
      'challenge',
      'auth.ok',
      'no.such.type',
    ];
    for (const type of names) expect(decodeError(envelope(type, {})), type).toBe('unknown_message_type');
  });

  it('refuses an empty, over-long or non-text type name as malformed', () => {
    for (const type of ['', 't'.repeat(65), 'with space', 'nul\u0000', 5]) {
      expect(decodeError(frame({ v: 1, type, id: 'x', body: {} })), JSON.stringify(type)).toBe('invalid_message');
    }
  });

  it('refuses __proto__ keys anywhere in the frame and leaves Object.prototype untouched', () => {
    const frames = [
      '{"__proto__":{"polluted":true},"v":1,"type":"inventory.delta","id":"x","body":{}}',
      `{"v":1,"type":"inventory.delta","id":"x","body":{"__proto__":{"polluted":true}}}`,
      `{"v":1,"type":"inventory.delta","id":"x","body":{"baseHash":"${HASH_A}","hash":"${HASH_B}","remove":[],"upsert":[{"__proto__":{"polluted":true},"ecosystem":"dpkg","name":"a","version":"1","arch":""}]}}`,
    ];
    for (const text of frames) {
      expect(decodeError(text), text).toBe('invalid_message');
      prototypeIsClean();
    }
  });

  it('refuses constructor.prototype keys anywhere in the frame and leaves Object.prototype untouched', () => {
    const frames = [
      '{"constructor":{"prototype":{"polluted":true}},"v":1,"type":"inventory.delta","id":"x","body":{}}',
      '{"v":1,"type":"inventory.delta","id":"x","body":{"facts":{"constructor":{"prototype":{"polluted":true}}}}}',
    ];
    for (const text of frames) {
      expect(decodeError(text), text).toBe('invalid_message');
      prototypeIsClean();
    }
  });

  it('refuses frames larger than MAX_FRAME_BYTES before parsing them, counting bytes, not characters', () => {
    const padding = 'x'.repeat(MAX_FRAME_BYTES);
    expect(decodeError(envelope('inventory.delta', { ...deltaBody, padding }))).toBe('payload_too_large');
    expect(decodeError(Buffer.from(envelope('inventory.delta', { ...deltaBody, padding })))).toBe('payload_too_large');
    // Not JSON at all, yet the size is what is reported: nothing that large is ever parsed.
    expect(decodeError('{'.repeat(MAX_FRAME_BYTES + 1))).toBe('payload_too_large');
    // 'é' is two bytes in UTF-8: a frame of fewer characters than the limit can still exceed it.
    const wide = envelope('inventory.delta', { ...deltaBody, padding: 'é'.repeat(MAX_FRAME_BYTES / 2) });
    expect(wide.length).toBeLessThan(MAX_FRAME_BYTES + 100);
    expect(decodeError(wide)).toBe('payload_too_large');
  });

  it('refuses bodies with properties their schema does not list', () => {
    expect(decodeError(envelope('inventory.delta', { ...deltaBody, hostId: '00000000-0000-0000-0000-000000000000' }))).toBe(
      'invalid_message',
    );
    expect(decodeError(envelope('inventory.delta', { ...deltaBody, upsert: [{ ...pkg, installedBy: 'root' }] }))).toBe('invalid_message');
  });

  it('refuses bodies with missing or mistyped fields', () => {
    const { hash: _omitted, ...noHash } = deltaBody;
    expect(decodeError(envelope('inventory.delta', noHash))).toBe('invalid_message');
    expect(decodeError(envelope('inventory.delta', { ...deltaBody, hash: 'ABC' }))).toBe('invalid_message');
    expect(decodeError(envelope('inventory.delta', { ...deltaBody, upsert: 'bash' }))).toBe('invalid_message');
  });

  it('refuses NUL bytes in any package field', () => {
    for (const field of ['name', 'version', 'arch', 'source', 'sourceVersion'] as const) {
      const body = { ...deltaBody, upsert: [{ ...pkg, [field]: 'x\u0000y' }] };
      expect(decodeError(envelope('inventory.delta', body)), field).toBe('invalid_message');
    }
    expect(decodeError(envelope('inventory.delta', { ...deltaBody, remove: [{ ecosystem: 'dpkg', name: 'a\u0000', arch: '' }] }))).toBe(
      'invalid_message',
    );
  });

  it('names the failing path in its message', () => {
    try {
      codec.decode(envelope('inventory.delta', { ...deltaBody, upsert: [{ ...pkg, name: '' }] }));
      expect.unreachable();
    } catch (err) {
      expect((err as BrierError).message).toContain('/upsert/0/name');
    }
  });
});

describe('Codec.encode', () => {
  /** The agent's side: encodes what agents send. */
  const agentCodec = new Codec(ServerMessages, AgentMessages);

  it('produces a versioned envelope that the other side decodes to the same body', () => {
    const text = agentCodec.encode('inventory.delta', deltaBody, 'ref-1');
    expect(JSON.parse(text)).toEqual({ v: 1, type: 'inventory.delta', id: 'ref-1', body: deltaBody });
    expect(codec.decode(text)).toEqual({ type: 'inventory.delta', id: 'ref-1', body: deltaBody });
  });

  it('gives every frame a fresh id by default', () => {
    const a = JSON.parse(agentCodec.encode('inventory.delta', deltaBody)) as { id: string };
    const b = JSON.parse(agentCodec.encode('inventory.delta', deltaBody)) as { id: string };
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(a.id).not.toBe(b.id);
    expect(newMessageId()).toMatch(/^[A-Za-z0-9_-]{12}$/);
  });

  it('refuses a body that fails its own schema, so it never reaches the wire', () => {
    const bad = { ...deltaBody, upsert: [{ ...pkg, name: 'a\u0000b' }] };
    expect(() => agentCodec.encode('inventory.delta', bad)).toThrow(
      expect.objectContaining({ name: 'BrierError', code: 'invalid_message' }),
    );
    const extra = { ...deltaBody, hostId: 'x' };
    expect(() => agentCodec.encode('inventory.delta', extra)).toThrow(expect.objectContaining({ code: 'invalid_message' }));
  });

  it('refuses a type this side does not send', () => {
    // The agent never sends a challenge; a wrongly typed call is refused at runtime too.
    const send = agentCodec.encode.bind(agentCodec) as (type: string, body: unknown) => string;
    expect(() => send('challenge', { nonce: 'n'.repeat(43), heartbeatIntervalMs: 30_000 })).toThrow(
      expect.objectContaining({ code: 'unknown_message_type' }),
    );
    expect(() => send('__proto__', {})).toThrow(expect.objectContaining({ code: 'unknown_message_type' }));
  });
});

describe('parseJsonStrict', () => {
  it('parses ordinary JSON', () => {
    expect(parseJsonStrict('{"a":[1,"b",null]}')).toEqual({ a: [1, 'b', null] });
  });

  it('throws invalid_message with the parser error as cause', () => {
    try {
      parseJsonStrict('{');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(BrierError);
      expect((err as BrierError).code).toBe('invalid_message');
      expect((err as BrierError).cause).toBeInstanceOf(Error);
    }
  });
});
