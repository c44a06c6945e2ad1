/// <reference types="node" />
// Command-line arguments: each command declares its flags once (type, range, default, help),
// and that one declaration drives parsing (node:util parseArgs, strict), the checks on every
// value, and the --help text. A bad flag is a UsageError whose message names the command,
// the flag, what it expects and what it got; main.ts prints it and exits with code 2.
import { parseArgs } from 'node:util';

/** One flag of a command. */
export interface FlagSpec {
  /** 'int' and 'number' take a value and check it against min/max; 'choice' takes one of
   *  `choices`; 'string' any text; 'boolean' is a switch without a value. */
  type: 'int' | 'number' | 'string' | 'choice' | 'boolean';
  /** What the flag does, one line, for --help. */
  help: string;
  /** Value used when the flag is absent (shown in --help). */
  default?: number | string | boolean;
  /** Allowed values of a 'choice' flag. */
  choices?: readonly string[];
  /** Smallest and largest allowed value of a number (inclusive, unless minExclusive). */
  min?: number;
  max?: number;
  /** The value must be greater than min, not equal to it. */
  minExclusive?: boolean;
  /** Name of the value in --help, e.g. N or PATH. */
  placeholder?: string;
}

/** A command: its name, what it does, its positional arguments and its flags. */
export interface CommandSpec {
  name: string;
  /** One line, for the overview and the top of --help. */
  summary: string;
  /** Positional arguments in order, all required. */
  positionals: { name: string; help: string }[];
  flags: Record<string, FlagSpec>;
  /** Paragraphs after the flags in --help: examples, files written, exit codes. */
  notes?: string;
}

export type FlagValue = number | string | boolean;

/** What parseCommand returns: the positionals, every flag's value (given or default), and
 *  which flags were given on the command line. */
export interface ParsedArgs {
  positionals: string[];
  flags: Record<string, FlagValue | undefined>;
  given: Set<string>;
  help: boolean;
}

/** A mistake on the command line (exit code 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Parse argv for a command: every flag known and its value checked, positionals counted.
 *  With --help anywhere, nothing else is checked. */
export function parseCommand(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const where = `rnn-wasm ${spec.name}`;
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const [name, f] of Object.entries(spec.flags)) options[name] = { type: f.type === 'boolean' ? 'boolean' : 'string' };
  let parsed;
  try {
    parsed = parseArgs({ args: joinNegatives(argv, spec), options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${where}: ${explainParseError(e as Error & { code?: string }, spec)}`);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const help = values.help === true;
  const given = new Set(Object.keys(values).filter((k) => k !== 'help' && values[k] !== undefined));
  const flags: Record<string, FlagValue | undefined> = {};
  for (const [name, f] of Object.entries(spec.flags)) {
    const raw = values[name];
    flags[name] = raw === undefined || help ? f.default : checkValue(where, name, f, raw);
  }
  if (!help) {
    const want = spec.positionals;
    if (parsed.positionals.length < want.length) {
      const missing = want.slice(parsed.positionals.length).map((p) => p.name.toUpperCase()).join(' ');
      throw new UsageError(`${where}: missing ${missing} (${want[parsed.positionals.length].help}); see rnn-wasm ${spec.name} --help`);
    }
    if (parsed.positionals.length > want.length) {
      throw new UsageError(`${where}: unexpected argument ${JSON.stringify(parsed.positionals[want.length])}; it takes ${want.length === 0 ? 'no arguments' : want.map((p) => p.name.toUpperCase()).join(' ')} and flags (see --help)`);
    }
  }
  return { positionals: parsed.positionals, flags, given, help };
}

/** Two flags that cannot be given together. */
export function exclusive(spec: CommandSpec, args: ParsedArgs, a: string, b: string): void {
  if (args.given.has(a) && args.given.has(b)) throw new UsageError(`rnn-wasm ${spec.name}: give --${a} or --${b}, not both`);
}

/** The --help text of a command. */
export function helpText(spec: CommandSpec): string {
  const usage = [`rnn-wasm ${spec.name}`, ...spec.positionals.map((p) => p.name.toUpperCase()), '[flags]'].join(' ');
  const lines = [`${spec.summary}`, '', `usage: ${usage}`, ''];
  for (const p of spec.positionals) lines.push(`  ${p.name.toUpperCase().padEnd(24)}${p.help}`);
  if (spec.positionals.length > 0) lines.push('');
  lines.push('flags:');
  const rows = Object.entries(spec.flags).map(([name, f]) => [flagLabel(name, f), flagHelp(f)]);
  rows.push(['--help', 'show this help']);
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  for (const [label, text] of rows) lines.push(`  ${label.padEnd(width)}${text}`);
  if (spec.notes) lines.push('', spec.notes.trim());
  return lines.join('\n') + '\n';
}

// --- values ---

/** `--flag -1` → `--flag=-1` for flags that take a value, so that a negative number reaches
 *  the range check (and its message) instead of reading as another flag. */
function joinNegatives(argv: readonly string[], spec: CommandSpec): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const f = /^--([^=]+)$/.exec(argv[i])?.[1];
    if (f && spec.flags[f] && spec.flags[f].type !== 'boolean' && /^-[\d.]/.test(argv[i + 1] ?? '')) out.push(`${argv[i]}=${argv[++i]}`);
    else out.push(argv[i]);
  }
  return out;
}

function checkValue(where: string, name: string, f: FlagSpec, raw: string | boolean): FlagValue {
  if (f.type === 'boolean') return raw as boolean;
  const text = raw as string;
  const fail = (): never => {
    throw new UsageError(`${where}: --${name} expects ${expectation(f)}, got ${JSON.stringify(text)}`);
  };
  switch (f.type) {
    case 'string':
      if (text === '') fail();
      return text;
    case 'choice':
      if (!f.choices!.includes(text)) fail();
      return text;
    case 'int':
      if (!/^[+-]?\d+$/.test(text)) fail();
      break;
    case 'number':
      if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) fail();
      break;
  }
  const v = Number(text);
  const low = f.min !== undefined && (f.minExclusive ? v <= f.min : v < f.min);
  if (!Number.isFinite(v) || !Number.isSafeInteger(Math.trunc(v)) || low || (f.max !== undefined && v > f.max)) fail();
  return v;
}

/** "a whole number ≥ 1", "a number in (0, 1)", "one of rnn, lstm, gru" … */
function expectation(f: FlagSpec): string {
  if (f.type === 'choice') return `one of ${f.choices!.join(', ')}`;
  if (f.type === 'string') return `a non-empty ${f.placeholder ?? 'value'}`;
  const kind = f.type === 'int' ? 'a whole number' : 'a number';
  const lo = f.min === undefined ? undefined : `${f.minExclusive ? '>' : '≥'} ${f.min}`;
  const hi = f.max === undefined ? undefined : `≤ ${f.max}`;
  return [kind, [lo, hi].filter(Boolean).join(' and ')].filter(Boolean).join(' ');
}

function flagLabel(name: string, f: FlagSpec): string {
  if (f.type === 'boolean') return `--${name}`;
  const value = f.type === 'choice' ? f.choices!.join('|') : f.placeholder ?? (f.type === 'string' ? 'TEXT' : 'N');
  return `--${name} ${value}`;
}

function flagHelp(f: FlagSpec): string {
  return f.default === undefined || f.type === 'boolean' ? f.help : `${f.help} (default ${f.default})`;
}

/** parseArgs' errors, reworded to name the flag and point at --help. */
function explainParseError(e: Error & { code?: string }, spec: CommandSpec): string {
  const flag = /'(-{1,2}[^' ]+)/.exec(e.message)?.[1];
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && flag) {
    const near = closest(flag.replace(/^-+/, ''), Object.keys(spec.flags));
    return `unknown flag ${flag}${near ? ` (did you mean --${near}?)` : ''}; see rnn-wasm ${spec.name} --help`;
  }
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && flag) {
    const f = spec.flags[flag.replace(/^-+/, '')];
    return f && f.type !== 'boolean' ? `${flag} expects ${expectation(f)}, got nothing` : `${flag} is a switch and takes no value`;
  }
  return e.message;
}

/** The known name nearest to a mistyped one (edit distance ≤ 2), if any. */
export function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined, bestDistance = 3;
  for (const k of known) {
    const d = editDistance(name, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}
