/**
 * Runs the benchmarks, one after another in this process: `npm run bench` runs them all with their
 * defaults; `npm run bench -- <name> [flags]` runs one with flags for it (see bench/README.md).
 */
import { parseConsoleLoadArgs, runConsoleLoad } from './console-load.js';
import { parseFanoutArgs, runFanout } from './fanout.js';
import { parseIngestArgs, runInventoryIngest } from './inventory-ingest.js';
import { parseVulnArgs, runVulnMatching } from './vuln-matching.js';

const BENCHMARKS: Record<string, (argv: readonly string[], command: string) => Promise<void>> = {
  'inventory-ingest': (argv, command) => runInventoryIngest(parseIngestArgs(argv), command),
  fanout: (argv, command) => runFanout(parseFanoutArgs(argv), command),
  'vuln-matching': (argv, command) => runVulnMatching(parseVulnArgs(argv), command),
  'console-load': (argv, command) => runConsoleLoad(parseConsoleLoadArgs(argv), command),
};

const [first, ...rest] = process.argv.slice(2);
if (first !== undefined && !(first in BENCHMARKS)) {
  console.error(`unknown benchmark ${JSON.stringify(first)}; known: ${Object.keys(BENCHMARKS).join(', ')}`);
  process.exit(2);
}
const selected = first === undefined ? Object.keys(BENCHMARKS) : [first];
for (const name of selected) {
  const argv = first === undefined ? [] : rest;
  await BENCHMARKS[name]?.(argv, ['node --import tsx bench/run.ts', name, ...argv].join(' '));
}
