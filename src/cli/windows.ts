// Next-token examples from a text's token ids: window w holds the inputs x = ids[w·T, w·T + T)
// and the targets y = ids[w·T + 1, w·T + T + 1), each input's target being the token after it.
// The windows of a text are arrays whose elements are made when they are read, as copies of
// their T tokens: memory stays that of the ids (2 or 4 bytes a token) however many windows a
// text has, and a batch posted to worker threads carries its own tokens only (a view would
// carry the whole text's buffer with it). Plain code without Node or DOM: the command line
// and the demo page (examples/web/) both cut their text with it.

/** Token ids: 2 bytes each while the vocabulary fits in 16 bits, else 4. */
export type TokenIds = Uint16Array | Int32Array;

/** Windows of T inputs cut every T in n tokens: whole ones, or with `partial` also a last
 *  shorter one, so that every token but the first is a target once. */
export function windowCount(n: number, T: number, partial = false): number {
  return Math.max(0, partial ? Math.ceil((n - 1) / T) : Math.floor((n - 1) / T));
}

/** Windows [first, end): inputs x and targets y, as read-only arrays made on access. */
export function windows(ids: TokenIds, T: number, first: number, end: number): { x: TokenIds[]; y: TokenIds[] } {
  const last = ids.length - 1;
  const at = (shift: number) => (i: number) => {
    const start = (first + i) * T;
    return ids.slice(start + shift, Math.min(start + T, last) + shift);
  };
  return { x: lazyArray(end - first, at(0)), y: lazyArray(end - first, at(1)) };
}

/** An array of `length` elements, element i being make(i) each time it is read. To
 *  Array.isArray, length, indexing, iteration, slice and map it is an ordinary array; it
 *  cannot be written. */
function lazyArray<E>(length: number, make: (i: number) => E): E[] {
  const index = (key: string | symbol) => {
    if (typeof key !== 'string' || !/^(0|[1-9]\d*)$/.test(key)) return -1;
    const i = Number(key);
    return i < length ? i : -1;
  };
  return new Proxy(new Array<E>(length), {
    get: (target, key, receiver) => {
      const i = index(key);
      return i >= 0 ? make(i) : Reflect.get(target, key, receiver);
    },
    has: (target, key) => index(key) >= 0 || Reflect.has(target, key),
    set: () => false,
    deleteProperty: () => false,
    defineProperty: () => false,
  });
}
