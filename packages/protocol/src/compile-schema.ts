import type Type from 'typebox';
import type { TSchema } from 'typebox';
import { Compile, type Validator } from 'typebox/compile';
import { BrierError } from './errors.js';

// Its own module, importing no message definitions, so schema modules (assignment.ts) and the
// envelope (which imports every message) can both use it without an import cycle.
/** Compiles a schema once; `check` throws `invalid_message` naming the first failing path. */
export function compileSchema<T extends TSchema>(schema: T): (value: unknown, what: string) => Type.Static<T> {
  const validator = Compile(schema) as unknown as Validator;
  return (value: unknown, what: string) => {
    if (validator.Check(value)) return value as Type.Static<T>;
    const first = validator.Errors(value)[0];
    // The path is made of the peer's own key names: quote it (escaping control characters) and
    // bound it, so an error message can never carry raw attacker bytes or grow without limit.
    const where = first ? `${JSON.stringify((first.instancePath || '/').slice(0, 200))}: ${first.message}` : 'invalid';
    throw new BrierError('invalid_message', `${what} ${where}`);
  };
}
