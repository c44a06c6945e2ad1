// Size limits, checked before anything is allocated or built: a model's parameters must fit
// in one region of WebAssembly memory, and a call that returns a generated sequence as an
// array has a bounded length. Sizes come from arithmetic on the config (never from building
// the layout), so a config of 2^32 layers is refused at once, naming the field, instead of
// running out of memory while it makes four billion table entries.
import { MAX_REGION_BYTES } from './arena.js';
import { GATES, type LayoutSpec } from './layout.js';
import { checkInt } from './validate.js';

/** Most parameters one model holds: they are one region of f32 (just under 1 GiB). */
export const MAX_PARAMS = Math.floor(MAX_REGION_BYTES / 4);

/** Longest sequence a call that returns an array generates (sample, generate, generateMany,
 *  generateBatch, beamSearch). stream() yields one token at a time and takes any length. */
export const MAX_LENGTH = 1_000_000;

/** Most values one generating call returns: sequences × steps (× n_y for vector outputs). */
export const MAX_GENERATED = 10_000_000;

/** Most candidates beam search ranks per step: beamWidth × vocabulary size. */
export const MAX_BEAM_CANDIDATES = 4_194_304;

/** The size fields a model's parameter count depends on, at any depth of its config (size: an
 *  embedding's E). */
const SIZE_FIELDS = ['n_x', 'n_a', 'n_y', 'layers', 'size'];

/** Tensors and f32 values a layout spec makes, by arithmetic (as buildLayout would lay them out),
 *  and how many of the tensors are recurrent biases (bias_ih / bias_hh). */
export function layoutCounts(spec: LayoutSpec): { tensors: number; values: number; biases: number } {
  let tensors = 0, values = 0, biases = 0;
  for (const { spec: s } of spec.stacks) {
    const rows = GATES[s.cell] * s.n_a, dirs = s.bidirectional ? 2 : 1;
    // per direction: weight_ih (rows, n_in), weight_hh (rows, n_a), and unless the stack has
    // none, bias_ih and bias_hh (rows)
    const b = s.bias === false ? 0 : 2;
    const first = rows * (s.n_x + s.n_a + b), above = rows * (dirs * s.n_a + s.n_a + b);
    tensors += (2 + b) * dirs * s.layers;
    biases += b * dirs * s.layers;
    values += dirs * (first + (s.layers - 1) * above);
  }
  if (spec.head) {
    // a head tied to an embedding table has only its bias of its own; a head without a bias
    // (nn.Linear's bias=False) only its weight
    const hb = spec.head.bias === false ? 0 : 1;
    tensors += (spec.head.tied ? 0 : 1) + hb;
    values += spec.head.n_y * ((spec.head.tied ? 0 : spec.head.n_in) + hb);
  }
  for (const t of spec.embeddings ?? []) {
    tensors += 1;
    values += t.V * t.E;
  }
  for (const l of spec.linears ?? []) {
    tensors += 2;
    values += l.n_out * (l.n_in + 1);
  }
  for (const m of spec.matrices ?? []) {
    tensors += 1;
    values += m.n_out * m.n_in;
  }
  return { tensors, values, biases };
}

/** Refuse a resolved config whose parameters cannot fit in one region, naming the size field
 *  that makes it too large: the one whose value, brought down to 1, shrinks the model most. */
export function checkModelSize<C extends object>(where: string, config: C, layoutOf: (c: C) => LayoutSpec): void {
  const values = layoutCounts(layoutOf(config)).values;
  if (values <= MAX_PARAMS) return;
  const sizes = sizeFields(config, '');
  let blame = sizes[0], least = Infinity;
  for (const field of sizes) {
    const n = field[1] > 1 ? layoutCounts(layoutOf(withField(config, field[0], 1))).values : values;
    if (n < least) [blame, least] = [field, n];
  }
  const others = sizes.filter((f) => f !== blame).map(([p, v]) => `${p} = ${v}`).join(', ');
  throw new RangeError(`${where}: ${blame[0]} = ${blame[1]} makes ${count(values)} parameters (with ${others}); ` +
    `a model holds at most ${MAX_PARAMS} (one region of ${MAX_REGION_BYTES} bytes of f32)`);
}

/** A generated length: an integer ≥ min, at most MAX_LENGTH, and with `values` values per step
 *  (sequences × n_y), at most MAX_GENERATED values in all. `hint` says what to do instead. */
export function checkLength(where: string, name: string, v: unknown, min = 1, values = 1, hint = ''): number {
  const n = checkInt(where, name, v, min);
  if (n > MAX_LENGTH) throw new RangeError(`${where}: ${name} must be at most ${MAX_LENGTH}, got ${count(n)}${hint}`);
  if (n * values > MAX_GENERATED) {
    throw new RangeError(`${where}: ${name} = ${n} steps of ${values} values each makes ${count(n * values)} values; one call returns at most ${MAX_GENERATED}`);
  }
  return n;
}

/** maxLength of a generating call: bounded by checkLength when the call returns an array of
 *  `values` values per step, any whole number ≥ 1 when it yields them one at a time (lazy). */
export function checkMaxLength(where: string, v: unknown, values: number, lazy: boolean): number {
  if (lazy) return checkInt(where, 'maxLength', v);
  return checkLength(where, 'maxLength', v, 1, values, ' (stream() yields one token at a time, without this bound)');
}

/** Beam search's width, with the vocabulary size V: width × V candidates per step, bounded. */
export function checkBeamWidth(where: string, v: unknown, V: number): number {
  const width = checkInt(where, 'beamWidth', v);
  if (width * V > MAX_BEAM_CANDIDATES) {
    throw new RangeError(`${where}: beamWidth = ${count(width)} with a vocabulary of ${V} ranks ${count(width * V)} candidates per step; at most ${MAX_BEAM_CANDIDATES} (beamWidth ≤ ${Math.floor(MAX_BEAM_CANDIDATES / V)})`);
  }
  return width;
}

function count(n: number): string {
  // sizes near 1e308 overflow the count to Infinity (or NaN, as Infinity − Infinity)
  if (!Number.isFinite(n)) return 'more than 1.8e+308';
  return Number.isSafeInteger(n) ? String(n) : n.toExponential(2);
}

/** The size fields of a resolved config, for messages: 'n_x = 4, n_a = 3, …'. */
export function describeSizes(config: object): string {
  return sizeFields(config, '').map(([p, v]) => `${p} = ${v}`).join(', ');
}

/** [path, value] of every size field of a config, nested objects (encoder, decoder) included. */
function sizeFields(config: object, prefix: string): [string, number][] {
  const out: [string, number][] = [];
  for (const [key, v] of Object.entries(config)) {
    if (SIZE_FIELDS.includes(key) && typeof v === 'number') out.push([prefix + key, v]);
    else if (typeof v === 'object' && v !== null && !Array.isArray(v)) out.push(...sizeFields(v, `${prefix}${key}.`));
  }
  return out;
}

/** A copy of a config with the field at `path` (dotted) set to v. */
function withField<C extends object>(config: C, path: string, v: number): C {
  const [key, ...rest] = path.split('.');
  const o = config as Record<string, unknown>;
  return { ...o, [key]: rest.length > 0 ? withField(o[key] as object, rest.join('.'), v) : v } as C;
}
