import { randomBytes } from 'node:crypto';
import sjson from 'secure-json-parse';
import type Type from 'typebox';
import type { TSchema } from 'typebox';
import { compileSchema } from './compile-schema.js';
import { BrierError } from './errors.js';
import { Envelope, MAX_FRAME_BYTES, PROTOCOL_VERSION } from './messages.js';

export { compileSchema };

/** Parses JSON refusing `__proto__` and `constructor.prototype` keys anywhere in the document. */
export function parseJsonStrict(text: string): unknown {
  try {
    return sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (cause) {
    throw new BrierError('invalid_message', 'frame is not acceptable JSON', { cause });
  }
}

const checkEnvelope = compileSchema(Envelope);

export interface Decoded<Types extends string> {
  type: Types;
  id: string;
  body: unknown;
}

export function newMessageId(): string {
  return randomBytes(9).toString('base64url');
}

/**
 * One side's codec: decodes frames of the types it receives (refusing unknown types before any
 * handler runs) and encodes frames of the types it sends (checked too, so a bug cannot put a
 * malformed frame on the wire).
 */
export class Codec<In extends Record<string, TSchema>, Out extends Record<string, TSchema>> {
  private readonly inbound = new Map<string, (value: unknown, what: string) => unknown>();
  private readonly outbound = new Map<string, (value: unknown, what: string) => unknown>();

  constructor(inbound: In, outbound: Out) {
    for (const [type, schema] of Object.entries(inbound)) this.inbound.set(type, compileSchema(schema));
    for (const [type, schema] of Object.entries(outbound)) this.outbound.set(type, compileSchema(schema));
  }

  /** Decodes a text frame. Throws BrierError (`payload_too_large`, `invalid_message`, `unknown_message_type`). */
  decode(frame: string | Buffer): { type: keyof In & string; id: string; body: { [K in keyof In]: Type.Static<In[K]> }[keyof In] } {
    const size = typeof frame === 'string' ? Buffer.byteLength(frame) : frame.length;
    if (size > MAX_FRAME_BYTES) throw new BrierError('payload_too_large', `frame of ${size} bytes exceeds ${MAX_FRAME_BYTES}`);
    const text = typeof frame === 'string' ? frame : frame.toString('utf8');
    const envelope = checkEnvelope(parseJsonStrict(text), 'envelope');
    const check = this.inbound.get(envelope.type);
    if (!check) throw new BrierError('unknown_message_type', `message type ${JSON.stringify(envelope.type)} is not accepted here`);
    return { type: envelope.type, id: envelope.id, body: check(envelope.body, envelope.type) as never };
  }

  /** Narrows a decoded message's body by its type. */
  is<K extends keyof In & string>(msg: { type: string; body: unknown }, type: K): msg is { type: K; id: string; body: Type.Static<In[K]> } {
    return msg.type === type;
  }

  encode<K extends keyof Out & string>(type: K, body: Type.Static<Out[K]>, id: string = newMessageId()): string {
    const check = this.outbound.get(type);
    if (!check) throw new BrierError('unknown_message_type', `cannot send ${type}`);
    check(body, type);
    return JSON.stringify({ v: PROTOCOL_VERSION, type, id, body });
  }
}
