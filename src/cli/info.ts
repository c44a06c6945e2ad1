/// <reference types="node" />
// `rnn-wasm info FILE`: what a safetensors file holds, read without running anything: the
// model's architecture and sizes (from the config in its metadata), every tensor with its
// shape and parameter count, the tokenizer, and for a checkpoint of `rnn-wasm train` where the
// run stands. Files without an rnn-wasm config (a PyTorch state_dict) show their tensors.
import { decodeSafetensors, type TokenizerJSON } from '../index.js';
import { checksums } from '../io.js';
import { helpText, parseCommand, UsageError, type CommandSpec } from './args.js';
import { grouped, size, table } from './format.js';
import { readBytes } from './model-file.js';
import { decodeRunFile } from './run-file.js';

export const infoSpec: CommandSpec = {
  name: 'info',
  summary: 'Show what a model (or checkpoint) file holds: architecture, tensors, tokenizer.',
  positionals: [{ name: 'file', help: 'a .safetensors model file, or a .ckpt checkpoint' }],
  flags: {},
  notes: 'example: rnn-wasm info model.safetensors',
};

export async function info(argv: readonly string[], out: NodeJS.WriteStream): Promise<number> {
  const args = parseCommand(infoSpec, argv);
  if (args.help) {
    out.write(helpText(infoSpec));
    return 0;
  }
  const path = args.positionals[0];
  const bytes = await readBytes('info', path);
  let file;
  try {
    file = decodeSafetensors(bytes);
  } catch (e) {
    throw new UsageError(`rnn-wasm info: ${path}: ${(e as Error).message}`);
  }
  const config = parseConfig(file.metadata.config);
  const lines = [`${path}: ${size(bytes.length)}, ${file.metadata.format ? `${file.metadata.format} format ${file.metadata.format_version}` : 'no rnn-wasm metadata'}`];
  // the checksum rnn-wasm writes: a file that fails it is shown, but the command fails
  const { said, got } = checksums(file);
  lines.push(said === undefined ? 'checksum: none (not checked)'
    : got === said ? `checksum: ${said}, matches` : `checksum: DAMAGED: the contents hash to ${got}, the file says ${JSON.stringify(said)}; loading it is refused`);
  if (config) lines.push(...describeConfig(config));
  lines.push('', 'tensors:', indent(table([
    ['name', 'shape', 'parameters'],
    ...[...file.tensors].map(([name, t]) => [name, `[${t.shape.join(', ')}]`, grouped(t.data.length)]),
  ], [false, false, true])));
  const total = [...file.tensors.values()].reduce((n, t) => n + t.data.length, 0);
  lines.push(`  ${file.tensors.size} tensors, ${grouped(total)} values`);
  const { x, y } = (config?.tokenizers ?? {}) as { x?: TokenizerJSON; y?: TokenizerJSON };
  if (x && y && JSON.stringify(x) === JSON.stringify(y)) lines.push('', ...describeTokenizer('tokenizer', x));
  else for (const [which, t] of [['x', x], ['y', y]] as const) if (t) lines.push('', ...describeTokenizer(`tokenizer ${which}`, t));
  if (file.metadata.rnn_wasm_train) lines.push('', ...describeRun(bytes));
  out.write(lines.join('\n') + '\n');
  return got === said ? 0 : 1;
}

function parseConfig(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const c = JSON.parse(text) as unknown;
    return typeof c === 'object' && c !== null ? (c as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** architecture, cell, sizes, input/output — the config's fields that say what the model is. */
function describeConfig(c: Record<string, unknown>): string[] {
  const cell = c.cell ?? (c as { encoder?: { cell?: string } }).encoder?.cell;
  const rows: [string, unknown][] = [
    ['architecture', c.architecture ?? 'many-to-many'],
    ['cell', [cell, c.layers !== undefined ? `${c.layers} layer${c.layers === 1 ? '' : 's'}` : undefined, c.bidirectional ? 'bidirectional' : undefined,
      withoutBiases(c)].filter(Boolean).join(', ')],
    ['n_x, n_a, n_y', [c.n_x, c.n_a, c.n_y].join(', ')],
    ['embedding', describeEmbedding(c.embedding)],
    ['input, output', `${c.input}, ${c.output}${c.headBias === false ? ' without a bias' : ''}${c.reduction ? ` (${c.reduction} loss)` : ''}`],
    ['dropout', c.dropout || c.outputDropout ? `${c.dropout ?? 0} between layers, ${c.outputDropout ?? 0} before the output` : undefined],
    ['attention', c.attention],
    ['seed', c.seed],
  ];
  return table(rows.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => [k, String(v)])).split('\n');
}

/** Which recurrent layers have no biases (bias: false), if any: all of them, or a side's. */
function withoutBiases(c: Record<string, unknown>): string | undefined {
  if (c.bias === false) return 'no biases';
  const sides = (['encoder', 'decoder'] as const).filter((k) => (c[k] as { bias?: unknown } | undefined)?.bias === false);
  return sides.length > 0 ? `no biases in the ${sides.join(' and ')}` : undefined;
}

/** An embedding config as saved: its size, and what else it sets. */
function describeEmbedding(e: unknown): string | undefined {
  if (typeof e === 'number') return String(e);
  if (typeof e !== 'object' || e === null) return undefined;
  const { size: E, paddingIdx, frozen } = e as { size?: number; paddingIdx?: number | null; frozen?: boolean };
  return [`E ${E}`, paddingIdx != null ? `padding id ${paddingIdx}` : '', frozen ? 'frozen' : ''].filter(Boolean).join(', ');
}

/** Kind, size, special tokens and the first tokens (a space shown as ␣, escapes as in JSON). */
function describeTokenizer(label: string, t: TokenizerJSON): string[] {
  const specials = (['unk', 'bos', 'eos'] as const).filter((k) => t[k] !== undefined).map((k) => `${k} ${JSON.stringify(t.tokens[t[k]!])}`);
  const shown = t.tokens.slice(0, 40).map((s) => (s === ' ' ? '␣' : JSON.stringify(s).slice(1, -1))).join(' ');
  return [
    `${label}: ${t.kind === 'char' ? 'characters' : 'words'}, ${t.tokens.length} tokens${specials.length ? ` (${specials.join(', ')})` : ''}`,
    `  ${shown}${t.tokens.length > 40 ? ' …' : ''}`,
  ];
}

function describeRun(bytes: Uint8Array): string[] {
  try {
    const run = decodeRunFile(bytes);
    const last = run.rows.at(-1);
    const length = 'steps' in run.length ? `${run.length.steps} steps` : `${run.length.epochs} epochs`;
    return [
      `training run: step ${run.steps} of a run of ${length}, ${grouped(run.tokens)} tokens, ${Math.round(run.elapsedMs / 1000)} s`,
      ...(last ? [`  last logged: step ${last.step}, train ${(last.trainLoss / Math.LN2).toFixed(3)} bits, held-out ${(last.heldOutLoss / Math.LN2).toFixed(3)} bits`] : []),
      `  settings: ${Object.entries(run.settings).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    ];
  } catch (e) {
    return [`training run: unreadable (${(e as Error).message})`];
  }
}

function indent(text: string): string {
  return text.split('\n').map((l) => `  ${l}`).join('\n');
}
