// Next-token examples from a text's token ids: windows of T + 1 tokens cut every T, x the
// first T and y the last T (each input's target is the token after it), as views of the one
// ids array, never copies. Plain code without Node or DOM: the command line and the demo
// page (examples/web/) both cut their text with it.

/** Token ids: 2 bytes each while the vocabulary fits in 16 bits, else 4. */
export type TokenIds = Uint16Array | Int32Array;

/** Windows [first, end) of T inputs each, and their targets. */
export function windows(ids: TokenIds, T: number, first: number, end: number): { x: TokenIds[]; y: TokenIds[] } {
  const x: TokenIds[] = [], y: TokenIds[] = [];
  for (let w = first; w < end; w++) {
    x.push(ids.subarray(w * T, w * T + T));
    y.push(ids.subarray(w * T + 1, w * T + T + 1));
  }
  return { x, y };
}

/** Number of whole windows of T + 1 tokens, cut every T, in n tokens. */
export function windowCount(n: number, T: number): number {
  return Math.max(0, Math.floor((n - 1) / T));
}
