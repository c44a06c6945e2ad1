// The embedding layer: token ids → rows of a table (nn.Embedding), and the gradient of the
// rows that were used.
//
//   forward:   X[r] = W_e[ids[r]]                        X (rows, E), W_e (V, E), ids (rows) i32
//   backward:  dW_e[ids[r]] += dX[r]  for ids[r] ≠ padding_idx
//
// The forward pass is a gather (one row copy per step), never a multiply by a one-hot
// vector; the backward pass adds into the rows used and leaves every other row alone. Rows
// of the padding id get no gradient, as PyTorch's padding_idx (−1: no padding id).
// see: https://pytorch.org/docs/stable/generated/torch.nn.Embedding.html

import { copy_bytes } from "./memory";

/** X (rows, E) = the rows of W_e (V, E) named by ids (rows). */
export function embedding_forward(X: usize, ids: usize, W_e: usize, rows: i32, E: i32): void {
  const width = <usize>E << 2;
  for (let r = 0; r < rows; r++) {
    const id = <usize>load<i32>(ids + (<usize>r << 2));
    copy_bytes(X + <usize>r * width, W_e + id * width, width);
  }
}

/** dW_e[ids[r]] += dX[r] for every r whose id is not padding_idx; reference loop. */
export function embedding_backward_naive(dW_e: usize, dX: usize, ids: usize, rows: i32, E: i32, padding_idx: i32): void {
  for (let r = 0; r < rows; r++) {
    const id = load<i32>(ids + (<usize>r << 2));
    if (id == padding_idx) continue;
    const d = dW_e + (<usize>id * E << 2), g = dX + (<usize>r * E << 2);
    for (let i = 0; i < E; i++) {
      const o = <usize>i << 2;
      store<f32>(d + o, load<f32>(d + o) + load<f32>(g + o));
    }
  }
}

/** dW_e[ids[r]] += dX[r] for every r whose id is not padding_idx, four values at a time
 *  where SIMD is built in. Rows are added in order r = 0, 1, …, so sums are deterministic. */
export function embedding_backward(dW_e: usize, dX: usize, ids: usize, rows: i32, E: i32, padding_idx: i32): void {
  for (let r = 0; r < rows; r++) {
    const id = load<i32>(ids + (<usize>r << 2));
    if (id == padding_idx) continue;
    const d = dW_e + (<usize>id * E << 2), g = dX + (<usize>r * E << 2);
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      for (; i + 4 <= E; i += 4) {
        const o = <usize>i << 2;
        v128.store(d + o, f32x4.add(v128.load(d + o), v128.load(g + o)));
      }
    }
    for (; i < E; i++) {
      const o = <usize>i << 2;
      store<f32>(d + o, load<f32>(d + o) + load<f32>(g + o));
    }
  }
}
