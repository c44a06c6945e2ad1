// Models that read one answer from a recurrent stack's final state: many-to-one (a whole
// sequence → one output) and one-to-one (T = 1). The output layer sees the top layer's last
// state of each sequence — for a bidirectional stack, the forward direction's state after the
// sequence's last step and the backward direction's after its first, concatenated (PyTorch's
// h_n) — and BPTT starts from there:
//
//   a<t> = cell(a<t-1>, x<t>),  t = 1 … T_b          ŷ = g(W_ya [a<T_b>] + b_y)
//
// T_b is each sequence's own length, so padding in a ragged batch never changes a result.
// B = sequences, T = longest length, n_a = hidden size, D = directions, S = L·D.

import type { PackedInput } from '../data.js';
import type { OutputKind } from '../data.js';
import { buildLayout, type LayoutSpec } from '../layout.js';
import { embeddingTable, tokenEmbeddingLayout, type ResolvedTokenEmbedding } from '../embedding.js';
import type { StatSums } from '../checkpoint.js';
import { Network, type Examples, type MetricName, type StatsWanted } from '../network.js';
import { Stack } from '../stack.js';
import { Stepper } from '../stepper.js';
import type { Build, Kernels } from '../wasm.js';
import { Head } from '../head.js';
import { metricsFor, stackConfig, type ResolvedCell } from './common.js';
import type { ResolvedLoss } from '../loss.js';

/** The parameter layout of a last-state model: its stack, then the output layer on D·n_a, and
 *  the embedding table (which the output layer's weight may be). */
export function lastStateLayout(c: ResolvedCell & ResolvedTokenEmbedding & { n_x: number; n_y: number; bidirectional?: boolean; headBias?: false }): LayoutSpec {
  const bidirectional = c.bidirectional ?? false;
  const t = tokenEmbeddingLayout(c, c.n_x, c.n_x);
  return {
    stacks: [{ prefix: t.prefix, spec: { cell: c.cell, n_x: t.n_x, n_a: c.n_a, layers: c.layers, bidirectional, bias: c.bias } }],
    head: { n_in: (bidirectional ? 2 : 1) * c.n_a, n_y: c.n_y, tied: t.tied, bias: c.headBias !== false },
    embeddings: t.embeddings,
  };
}

export abstract class LastStateNetwork<TBatch extends Examples> extends Network<TBatch> {
  protected readonly stack: Stack;
  protected readonly head: Head;
  private stream?: Stepper;
  /** Batch size, staged head input and targets of the last forward pass. */
  private last: { B: number; X: number; targets?: Int32Array | Float32Array } = { B: 0, X: 0 };

  protected constructor(kernels: Kernels, backend: Build, seed: number, cell: ResolvedCell,
                        n_x: number, n_y: number, tokens: boolean, bidirectional: boolean, output: OutputKind,
                        emb: ResolvedTokenEmbedding = {}, loss: ResolvedLoss = {}) {
    const D = bidirectional ? 2 : 1;
    super(kernels, backend, buildLayout(lastStateLayout({ ...cell, n_x, n_y, bidirectional, ...emb })), seed);
    const table = emb.embedding && embeddingTable(this.layout, 'embedding', emb.embedding);
    this.stack = new Stack(kernels, this.arena, this.layout, 0, stackConfig(cell, n_x, tokens, bidirectional, table));
    const head = this.layout.head()!;
    this.head = new Head(kernels, this.arena, head.weight, head.bias, D * cell.n_a, n_y, output, true, loss);
  }

  /** Forward over the batch and the output layer on each sequence's last state; the loss
   *  when targets are given (NaN otherwise). Outputs are then in the head. */
  protected runLast(packed: PackedInput, targets: Int32Array | Float32Array | undefined,
                    a0: Float32Array | undefined, c0: Float32Array | undefined,
                    reduction: 'sum' | 'mean', training: boolean): number {
    const { T, B, lens } = packed;
    this.head.ensure(B);                          // allocations first; views only after them
    this.stack.forward(this.weights, packed.x, T, B, lens, a0, c0, training ? this.rng : undefined);
    const X = this.head.stage(this.topStates(this.stack.finalStates().hT, B));
    this.last = { B, X, targets };
    const scale = targets ? this.head.scale(reduction, targets, B) : 1;
    return this.head.forward(this.weights, X, B, targets, undefined, scale, training);
  }

  /** BPTT after a training forward: ∂L/∂ŷ enters the stack at each sequence's final state. */
  protected backwardLast(): void {
    const { B, X } = this.last;
    const k = this.kernels;
    k.zero_f32(this.grads.ptr, this.layout.size);
    this.head.backward(this.weights, this.grads, X, this.head.stagedGrad(), B);
    const dX = this.head.readStagedGrad(B);
    // ∂L/∂a<T_b> of the top layer, per direction; every other final state gets none
    const { layers, n_a: H } = this.stack.config;
    const D = this.stack.D;
    const dhT = new Float32Array(this.stack.states * B * H);
    for (let d = 0; d < D; d++) {
      const s = (layers - 1) * D + d;
      for (let b = 0; b < B; b++) dhT.set(dX.subarray((b * D + d) * H, (b * D + d + 1) * H), (s * B + b) * H);
    }
    this.stack.zeroDOut();
    this.stack.backward(this.weights, this.grads, dhT);
  }

  /** The top layer's final states (S, B, H) as head inputs (B, D·H). */
  protected topStates(hT: Float32Array, B: number): Float32Array<ArrayBuffer> {
    const { layers, n_a: H } = this.stack.config;
    const D = this.stack.D;
    const X = new Float32Array(B * D * H);
    for (let d = 0; d < D; d++) {
      const s = (layers - 1) * D + d;
      for (let b = 0; b < B; b++) X.set(hT.subarray((s * B + b) * H, (s * B + b + 1) * H), (b * D + d) * H);
    }
    return X;
  }

  protected override supportedMetrics(): readonly MetricName[] {
    return metricsFor(this.head.output);
  }

  protected override batchStats(want: StatsWanted): StatSums | undefined {
    const { B, targets } = this.last;
    return targets ? this.head.stats(B, targets, undefined, want.accuracy) : undefined;
  }

  protected releaseWorkspaces(): void {
    this.head.release();
    this.stack.release();
    this.stream?.release();
  }

  /** The batch-1 stepper of a step() stream, made on first use (one direction only). */
  protected streamStepper(): Stepper {
    const head = this.layout.head()!;
    return this.stream ??= new Stepper(this.kernels, this.arena, this.layout, 0, this.stack.config, this.weights,
      { weight: head.weight, bias: head.bias, output: this.head.output });
  }
}
