/// <reference types="node" />
// The `rnn-wasm` command: picks the subcommand, runs it, and turns its outcome into an exit
// code — 0 done, 1 failed, 2 a mistake on the command line (a UsageError, printed without a
// stack trace), 130 interrupted. bin/rnn-wasm.js calls main().
import { readFileSync } from 'node:fs';
import { SafetensorsError } from '../index.js';
import { closest, UsageError } from './args.js';
import { evaluate } from './evaluate.js';
import { info } from './info.js';
import { sample } from './sample.js';
import { train } from './train.js';

type Command = (argv: readonly string[], out: NodeJS.WriteStream, err: NodeJS.WriteStream) => Promise<number>;

const COMMANDS: Record<string, { run: Command; summary: string }> = {
  train: { run: train, summary: 'train a character (or word) language model on a text file' },
  sample: { run: sample, summary: 'generate text from a model, streamed as it is generated' },
  eval: { run: evaluate, summary: 'score a model on a text: loss, bits per character, perplexity' },
  info: { run: info, summary: 'show what a model or checkpoint file holds' },
};

/** Run the command line `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: readonly string[], out: NodeJS.WriteStream = process.stdout, err: NodeJS.WriteStream = process.stderr): Promise<number> {
  // a reader that went away (| head) ends the output, not the process with a stack trace
  out.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    out.write(overview());
    return 0;
  }
  if (name === '--version' || name === '-v') {
    out.write(`${version()}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    const near = closest(name, Object.keys(COMMANDS));
    err.write(`rnn-wasm: unknown command ${JSON.stringify(name)}${near ? ` (did you mean ${near}?)` : ''}; the commands are ${Object.keys(COMMANDS).join(', ')} (see rnn-wasm --help)\n`);
    return 2;
  }
  try {
    return await command.run(rest, out, err);
  } catch (e) {
    return report(e, name, err);
  }
}

/** Print an error as the user should see it; the exit code. */
function report(e: unknown, name: string, err: NodeJS.WriteStream): number {
  if (e instanceof UsageError) {
    err.write(`${e.message.startsWith('rnn-wasm') ? '' : `rnn-wasm ${name}: `}${e.message}\n`);
    return 2;
  }
  // the library's argument and file errors, and the system's (EACCES, EISDIR, ENOSPC …), say
  // what went wrong in their message; anything else is a bug, shown with its stack
  const system = typeof (e as NodeJS.ErrnoException)?.code === 'string' && /^E[A-Z]+$/.test((e as NodeJS.ErrnoException).code!);
  const expected = e instanceof TypeError || e instanceof RangeError || e instanceof SafetensorsError || system;
  err.write(`rnn-wasm ${name}: ${expected ? (e as Error).message : (e as Error)?.stack ?? String(e)}\n`);
  return 1;
}

function overview(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(8)}${c.summary}`);
  return [
    `rnn-wasm ${version()}: recurrent neural networks in WebAssembly`, '',
    'usage: rnn-wasm COMMAND [arguments] [flags]', '', 'commands:', ...rows, '',
    'rnn-wasm COMMAND --help shows the arguments and flags of a command.',
    'example: rnn-wasm train data/pride-and-prejudice.txt --steps 2000 && rnn-wasm sample model.safetensors', '',
  ].join('\n');
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
