import { createInterface } from 'node:readline';
import { AbortedError, type CliIo } from './command.js';

type Prompt = NonNullable<CliIo['prompt']>;

/**
 * Interactive prompts on a terminal. Questions go to `output` (stderr in practice) so that stdout
 * stays clean for piping. Secrets are read in raw mode without echo; readline cannot hide input
 * without reaching into its private API.
 */
export function createTtyPrompt(input: NodeJS.ReadStream, output: NodeJS.WritableStream): Prompt {
  return (question, { secret }) => (secret ? readSecret(input, output, question) : readLine(input, output, question));
}

function readLine(input: NodeJS.ReadStream, output: NodeJS.WritableStream, question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input, output, terminal: true });
    let answered = false;
    rl.on('SIGINT', () => rl.close());
    // Ctrl-C and Ctrl-D both end up here without an answer.
    rl.on('close', () => {
      if (!answered) reject(new AbortedError());
    });
    rl.question(question, (answer) => {
      answered = true;
      rl.close();
      resolve(answer);
    });
  });
}

function readSecret(input: NodeJS.ReadStream, output: NodeJS.WritableStream, question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    output.write(question);
    const wasRaw = input.isRaw;
    input.setRawMode(true);
    input.setEncoding('utf8');
    input.resume();
    let value: string[] = [];

    const finish = (err?: Error) => {
      input.off('data', onData);
      input.setRawMode(wasRaw);
      input.pause();
      output.write('\n');
      if (err) reject(err);
      else resolve(value.join(''));
    };

    const onData = (chunk: string) => {
      // Arrow and function keys arrive as one escape sequence per chunk; they have no place in a password.
      if (chunk.startsWith('\u001b')) return;
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003' || (ch === '\u0004' && value.length === 0)) return finish(new AbortedError());
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        // Ctrl-U clears the line, as in a shell.
        else if (ch === '\u0015') value = [];
        else if (ch >= ' ') value.push(ch);
      }
    };
    input.on('data', onData);
  });
}
