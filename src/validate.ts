// Argument checks run in TypeScript before anything enters wasm. Every message names the
// call and the argument, what was expected and what arrived. TypeError for wrong types,
// RangeError for wrong sizes, values and indices.

/** Short description of a value for error messages. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name} of length ${(v as unknown as ArrayLike<number>).length}`;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (v instanceof ArrayBuffer) return `an ArrayBuffer of ${v.byteLength} bytes`;
  const name = typeof v === 'object' ? (v as object).constructor?.name : undefined;
  return name && name !== 'Object' ? `a ${name}` : typeof v;
}

/** "1 step", "2 steps": a count and its noun, singular or plural. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The largest of `values` (-Infinity for none): Math.max(...values) without spreading, which
 *  overflows the call stack past about 100 000 values (a batch of that many sequences). */
export function largest(values: readonly number[]): number {
  let max = -Infinity;
  for (const v of values) if (v > max) max = v;
  return max;
}

/** A whole number ≥ min (sizes, counts), and ≤ max when there is one. */
export function checkInt(where: string, name: string, v: unknown, min = 1, max = Infinity): number {
  const range = max === Infinity ? `≥ ${min}` : `in [${min}, ${max}]`;
  if (typeof v !== 'number') throw new TypeError(`${where}: ${name} must be an integer ${range}, got ${describe(v)}`);
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${where}: ${name} must be an integer ${range}, got ${v}`);
  return v;
}

/** A finite number, optionally within [lo, hi]. */
export function checkNumber(where: string, name: string, v: unknown, lo = -Infinity, hi = Infinity): number {
  if (typeof v !== 'number') throw new TypeError(`${where}: ${name} must be a number, got ${describe(v)}`);
  if (!Number.isFinite(v) || v < lo || v > hi) {
    const range = hi === Infinity ? (lo === -Infinity ? 'a finite number' : `a finite number ≥ ${lo}`)
      : lo === -Infinity ? `a finite number ≤ ${hi}` : `a number in [${lo}, ${hi}]`;
    throw new RangeError(`${where}: ${name} must be ${range}, got ${v}`);
  }
  return v;
}

/** A boolean. */
export function checkBoolean(where: string, name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new TypeError(`${where}: ${name} must be true or false, got ${describe(v)}`);
  return v;
}

/** One of a fixed set of strings. */
export function checkChoice<T extends string>(where: string, name: string, v: unknown, choices: readonly T[]): T {
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) {
    throw new TypeError(`${where}: ${name} must be one of ${quoted(choices)}, got ${describe(v)}${didYouMean(v, choices)}`);
  }
  return v as T;
}

/** A name from `choices`, or a config object whose `type` is one (optimizer: 'adam' or
 *  { type: 'adam', beta1 }); returned as an object with a type. */
export function checkNamed<T extends string>(where: string, name: string, v: unknown, choices: readonly T[]): Record<string, unknown> & { type: T } {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const c = v as Record<string, unknown>;
    checkChoice(where, `${name}.type`, c.type, choices);
    return c as Record<string, unknown> & { type: T };
  }
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) {
    throw new TypeError(`${where}: ${name} must be one of ${quoted(choices)} (or { type, … }), got ${describe(v)}${didYouMean(v, choices)}`);
  }
  return { type: v as T };
}

function quoted(choices: readonly string[]): string {
  return choices.map((c) => `'${c}'`).join(', ');
}

/** "; did you mean 'adam'?" when a string is a near miss of one of the choices, else "". */
function didYouMean(v: unknown, choices: readonly string[]): string {
  const near = typeof v === 'string' && v !== '' ? closest(v, choices) : undefined;
  return near === undefined ? '' : `; did you mean '${near}'?`;
}

/** A kernel build: 'auto', 'relaxed', 'simd' or 'scalar'; undefined is 'auto'. */
export function checkBackend(where: string, name: string, v: unknown): 'auto' | 'relaxed' | 'simd' | 'scalar' {
  if (v === undefined) return 'auto';
  if (v !== 'auto' && v !== 'relaxed' && v !== 'simd' && v !== 'scalar') {
    throw new TypeError(`${where}: ${name} must be 'auto', 'relaxed', 'simd' or 'scalar', got ${describe(v)}`);
  }
  return v;
}

export function isArrayLike(v: unknown): v is ArrayLike<unknown> {
  return Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));
}

/** Whether a number stays finite as a float32 (what every weight, input and state is): not
 *  NaN or ±Infinity, and within float32's range, ±3.4028235e38 (1e39 would become Infinity). */
export function finiteF32(v: number): boolean {
  return Number.isFinite(Math.fround(v));
}

/** `v`, and for a finite number past float32's range what it would become there. */
export function showF32(v: number): string {
  return Number.isFinite(v) ? `${v} (beyond float32's range of ±3.4028235e38: it would be ${Math.fround(v)})` : String(v);
}

/** A float array of exactly `length` values finite in float32. */
export function checkFloats(where: string, name: string, v: unknown, length: number): ArrayLike<number> {
  if (!isArrayLike(v)) throw new TypeError(`${where}: ${name} must be an array or typed array of ${length} numbers, got ${describe(v)}`);
  if (v.length !== length) throw new RangeError(`${where}: ${name} must have ${length} values, got ${v.length}`);
  for (let i = 0; i < length; i++) {
    const x = v[i];
    if (typeof x !== 'number') throw new TypeError(`${where}: ${name} must hold numbers, got ${describe(x)} at [${i}]`);
    if (!finiteF32(x)) throw new RangeError(`${where}: ${name} must hold finite numbers, got ${showF32(x)} at [${i}]`);
  }
  return v as ArrayLike<number>;
}

/** Run fn, labelling an error it throws with `where`, the function the user called, when its
 *  message does not already start with it (errors of a step inside a loader, say). */
export function labelled<T>(where: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof Error && !e.message.startsWith(`${where}:`)) e.message = `${where}: ${e.message}`;
    throw e;
  }
}

/** An options object (not null, not an array) with no keys but `keys`. */
export function checkObject(where: string, name: string, v: unknown, keys: readonly string[]): void {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TypeError(`${where}: ${name} must be an object, got ${describe(v)}`);
  checkKeys(where, name, v, keys);
}

/** Keys of any member of a union (keyof a union has only the keys its members share). */
type AnyKey<T> = T extends unknown ? keyof T : never;

/** The compile-time side of checkKeys: C, with every key that Base does not have typed never,
 *  so that a typo such as `layer` for `layers` is a compile error. A factory declared
 *  `<const C extends Config>(config: NoExtra<C, Config>)` keeps inferring C from the literal
 *  (which TypeScript does not check for excess properties against a type parameter). */
export type NoExtra<C, Base> = C & { [K in Exclude<keyof C, AnyKey<Base>>]: never };

/** Refuse keys of a config or options object that are not in `known` (a typo such as
 *  `layer` for `layers` would otherwise be ignored), suggesting the closest known key. A key
 *  whose value is undefined counts as absent, as it does for every default. */
export function checkKeys(where: string, name: string, obj: object, known: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (known.includes(key) || (obj as Record<string, unknown>)[key] === undefined) continue;
    const near = closest(key, known);
    const hint = near ? `; did you mean ${near}?` : `; it takes ${known.join(', ')}`;
    throw new TypeError(`${where}: ${name} has no field ${JSON.stringify(key)}${hint}`);
  }
}

/** The known key nearest to `key` by edit distance (case ignored), if it is near enough to be
 *  a typo: at most a third of the longer name, and at least 1, changed. */
export function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined, bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(Math.max(key.length, best.length) / 3)) ? best : undefined;
}

/** Edit distance: insertions, deletions, substitutions and swaps of two neighbours ('adma' is
 *  one edit from 'adam'), each counting 1 (optimal string alignment). */
function editDistance(a: string, b: string): number {
  let before: number[] = [], prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j], before[j - 2] + 1);
    }
    [before, prev] = [prev, row];
  }
  return prev[b.length];
}
