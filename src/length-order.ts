// The order in which a ragged batch runs through the recurrent stack: its sequences sorted by
// length, longest first, so that at every step the sequences still running are the first rows
// and the kernels skip the rest (assembly/cells.ts: active_rows). PyTorch's
// pack_padded_sequence(enforce_sorted=False) sorts the same way.
//
// B = sequences in the batch. An order maps a position in the run to the caller's sequence:
// order[i] = b runs sequence b at row i; its inverse maps back, inverse[b] = i.

/** The stable longest-first order of lens (B), or undefined when lens is already in
 *  non-increasing order (the batch runs as it is). Ties keep the caller's order. */
export function lengthOrder(lens: ArrayLike<number>): Int32Array | undefined {
  let sorted = true;
  for (let b = 1; b < lens.length && sorted; b++) sorted = lens[b] <= lens[b - 1];
  if (sorted) return undefined;
  const order = Int32Array.from({ length: lens.length }, (_, b) => b);
  return order.sort((p, q) => lens[q] - lens[p] || p - q);
}

/** inverse[order[i]] = i. */
export function invertOrder(order: Int32Array): Int32Array {
  const inverse = new Int32Array(order.length);
  for (let i = 0; i < order.length; i++) inverse[order[i]] = i;
  return inverse;
}

/** Copy B rows of n values: dst row i = src row rows[i] (or row i when rows is undefined), the
 *  rows of dst starting at row dstAt, those of src at row srcAt. */
export function copyRowsBy(dst: Float32Array, dstAt: number, src: Float32Array, srcAt: number,
                           B: number, n: number, rows?: Int32Array): void {
  for (let i = 0; i < B; i++) {
    const from = (srcAt + (rows ? rows[i] : i)) * n;
    dst.set(src.subarray(from, from + n), (dstAt + i) * n);
  }
}
