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
  return typeof v;
}

/** A whole number ≥ min (sizes, counts). */
export function checkInt(where: string, name: string, v: unknown, min = 1): number {
  if (typeof v !== 'number') throw new TypeError(`${where}: ${name} must be an integer ≥ ${min}, got ${describe(v)}`);
  if (!Number.isInteger(v) || v < min) throw new RangeError(`${where}: ${name} must be an integer ≥ ${min}, got ${v}`);
  return v;
}

/** A finite number, optionally within [lo, hi]. */
export function checkNumber(where: string, name: string, v: unknown, lo = -Infinity, hi = Infinity): number {
  if (typeof v !== 'number') throw new TypeError(`${where}: ${name} must be a number, got ${describe(v)}`);
  if (!Number.isFinite(v) || v < lo || v > hi) {
    const range = lo === -Infinity && hi === Infinity ? 'a finite number' : `a number in [${lo}, ${hi}]`;
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
    throw new TypeError(`${where}: ${name} must be one of ${choices.map((c) => `'${c}'`).join(', ')}, got ${describe(v)}`);
  }
  return v as T;
}

export function isArrayLike(v: unknown): v is ArrayLike<unknown> {
  return Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));
}

/** A float array of exactly `length` finite values. */
export function checkFloats(where: string, name: string, v: unknown, length: number): ArrayLike<number> {
  if (!isArrayLike(v)) throw new TypeError(`${where}: ${name} must be an array or typed array of ${length} numbers, got ${describe(v)}`);
  if (v.length !== length) throw new RangeError(`${where}: ${name} must have ${length} values, got ${v.length}`);
  for (let i = 0; i < length; i++) {
    const x = v[i];
    if (typeof x !== 'number') throw new TypeError(`${where}: ${name} must hold numbers, got ${describe(x)} at [${i}]`);
    if (!Number.isFinite(x)) throw new RangeError(`${where}: ${name} must hold finite numbers, got ${x} at [${i}]`);
  }
  return v as ArrayLike<number>;
}
