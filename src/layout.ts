// The parameter layout table: the only place that knows which tensor lives where.
//
// All parameters of a model are one contiguous f32 region; gradients and optimizer moments
// are regions of the same size with the same table, so clipping and optimizer steps are
// single loops. Order and names follow PyTorch's state_dict (nn.RNN / nn.LSTM / nn.GRU:
// weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, then the _reverse direction, then l1,
// ...), then the output layer ('head.weight', 'head.bias', an nn.Linear), then any other
// linear layers a model names ('bridge.weight', 'bridge.bias'). A model with several
// recurrent stacks (encoder, decoder) prefixes each stack's names ('encoder.').
// Bias-free matrices a model names ('attention.weight', 'attention.combine.weight') come next,
// then embedding tables ('embedding.weight', nn.Embedding's (V, E)): the trainable ones, then
// the frozen ones, so the optimizer's flat loop runs over the first `trainable` values only.
// A tensor can have several names when a model ties weights (one tensor, several modules: an
// embedding that is also the output layer's weight, or one embedding for source and target).
// Shapes are row-major (out, in); gate blocks are stacked in PyTorch's order along rows.
// A stack without biases (PyTorch's bias=False) has no bias_ih / bias_hh tensors at all, as
// its state_dict has none; its cells then run with zero biases (src/stack.ts). Likewise an
// output layer without a bias (nn.Linear's bias=False) has no 'head.bias' (src/head.ts).
//
// Seed names (the textbook's) alias the single-layer, one-direction vanilla cell and the head:
//   W_ax = weight_ih_l0 (n_a, n_x)    W_aa = weight_hh_l0 (n_a, n_a)
//   b_x  = bias_ih_l0   (n_a)         b_a  = bias_hh_l0   (n_a)
//   W_ya = head.weight  (n_y, n_a)    b_y  = head.bias    (n_y)

export type CellKind = 'rnn' | 'lstm' | 'gru';

/** A recurrent bias's name in a PyTorch state_dict (bias_ih_l0, bias_hh_l1_reverse, …), under
 *  any module prefix. */
export const RECURRENT_BIAS = /(^|\.)bias_(ih|hh)_l\d+(_reverse)?$/;

/** Gates per cell: weight_ih / weight_hh have gates · n_a rows (LSTM i,f,g,o; GRU r,z,n). */
export const GATES: Record<CellKind, number> = { rnn: 1, lstm: 4, gru: 3 };

/** The shape-determining part of a recurrent stack. */
export interface StackSpec {
  cell: CellKind;
  n_x: number;
  n_a: number;
  layers: number;
  bidirectional: boolean;
  /** false: no bias_ih / bias_hh tensors (PyTorch's bias=False). Default true. */
  bias?: boolean;
}

/** An embedding table of a layout: '<name>.weight', (V, E). */
export interface EmbeddingSpec {
  /** Module name: 'embedding', or with a model's prefix ('encoder.embedding'). */
  name: string;
  /** Rows (vocabulary size) and columns (values per token). */
  V: number;
  E: number;
  /** Left out of the optimizer's range (laid out after every trainable tensor). */
  frozen: boolean;
  /** A row that starts at zero (nn.Embedding's padding_idx). */
  paddingIdx?: number;
  /** Other names of the same tensor (weights tied across modules). */
  tiedNames?: readonly string[];
}

export interface LayoutSpec {
  /** Recurrent stacks, each with a name prefix ('' or e.g. 'encoder.'). */
  stacks: readonly { prefix: string; spec: StackSpec }[];
  /** The output layer: n_in → n_y, named 'head.weight' / 'head.bias'. Omitted: no head.
   *  `tied`: the head's weight is that embedding table (named in `embeddings`), (n_y, n_in),
   *  and 'head.weight' is one of its names. `bias` false: no 'head.bias' (nn.Linear's
   *  bias=False). Default true. */
  head?: { n_in: number; n_y: number; tied?: string; bias?: boolean };
  /** Other linear layers (e.g. an encoder-decoder's bridge), named '<name>.weight' (n_out, n_in)
   *  and '<name>.bias' (n_out), laid out after the head in the order given. */
  linears?: readonly { name: string; n_in: number; n_out: number }[];
  /** Weight matrices without a bias (e.g. attention's W_a, W_c), named exactly `name`, shape
   *  (n_out, n_in), laid out after the linear layers in the order given. */
  matrices?: readonly { name: string; n_in: number; n_out: number }[];
  /** Embedding tables, laid out last: the trainable ones in the order given, then the frozen. */
  embeddings?: readonly EmbeddingSpec[];
}

export type TensorRole = 'weight_ih' | 'weight_hh' | 'bias_ih' | 'bias_hh' | 'head_weight' | 'head_bias'
  | 'linear_weight' | 'linear_bias' | 'matrix' | 'embedding';

export interface TensorEntry {
  /** PyTorch-style name, the canonical one (files, the params object). */
  readonly name: string;
  /** The textbook name, when the tensor has one. */
  readonly alias?: string;
  readonly role: TensorRole;
  /** Stack index (−1 for the head and other linear layers), layer and direction (0 forward, 1 reverse). */
  readonly stack: number;
  readonly layer: number;
  readonly direction: number;
  readonly shape: readonly number[];
  /** Offset into the region, in f32 elements. */
  readonly offset: number;
  readonly length: number;
  /** Initialisation bound: values are drawn uniformly from (−bound, bound). */
  readonly initBound: number;
  /** 'normal': drawn from N(0, 1) instead (nn.Embedding's init). */
  readonly init?: 'normal';
  /** A row set to zero after the draw (nn.Embedding's padding_idx). */
  readonly zeroRow?: number;
  /** Other names of this tensor, when the model ties weights (e.g. 'head.weight'). */
  readonly tiedNames?: readonly string[];
}

/** The tensors of one cell (one layer, one direction): four, or two in a stack without biases. */
export interface CellParams {
  weight_ih: TensorEntry;
  weight_hh: TensorEntry;
  bias_ih?: TensorEntry;
  bias_hh?: TensorEntry;
}

export interface Layout {
  readonly entries: readonly TensorEntry[];
  /** Total f32 values. */
  readonly size: number;
  /** Values the optimizer updates: the first `trainable` of the region (frozen tensors come
   *  after them). Equal to size when nothing is frozen. */
  readonly trainable: number;
  /** Lookup by canonical name or alias. */
  get(name: string): TensorEntry | undefined;
  /** The tensors of one cell of a stack. */
  cell(stack: number, layer: number, direction: number): CellParams;
  /** The output layer, if the model has one; its bias unless the layer has none. */
  head(): { weight: TensorEntry; bias?: TensorEntry } | undefined;
  /** A linear layer from LayoutSpec.linears, by name, if the model has it. */
  linear(name: string): { weight: TensorEntry; bias: TensorEntry } | undefined;
  /** An embedding table from LayoutSpec.embeddings, by module name, if the model has it. */
  embedding(name: string): TensorEntry | undefined;
}

const SEED_ALIASES: Record<string, string> = {
  weight_ih_l0: 'W_ax', weight_hh_l0: 'W_aa', bias_ih_l0: 'b_x', bias_hh_l0: 'b_a',
  'head.weight': 'W_ya', 'head.bias': 'b_y',
};

export function buildLayout(spec: LayoutSpec): Layout {
  const entries: TensorEntry[] = [];
  let offset = 0;
  const add = (e: Omit<TensorEntry, 'offset' | 'length'>): void => {
    const length = e.shape.reduce((a, b) => a * b, 1);
    entries.push({ ...e, offset, length });
    offset += length;
  };
  spec.stacks.forEach(({ prefix, spec: s }, stack) => {
    const rows = GATES[s.cell] * s.n_a;
    const dirs = s.bidirectional ? 2 : 1;
    const textbook = prefix === '' && s.cell === 'rnn' && s.layers === 1 && !s.bidirectional;
    // PyTorch's recurrent init: every tensor ~ U(−1/√n_a, 1/√n_a)
    const k = 1 / Math.sqrt(s.n_a);
    for (let layer = 0; layer < s.layers; layer++) {
      const n_in = layer === 0 ? s.n_x : s.n_a * dirs;
      for (let direction = 0; direction < dirs; direction++) {
        const suffix = `_l${layer}${direction ? '_reverse' : ''}`;
        const tensor = (role: TensorRole, shape: number[]) => {
          const bare = `${role}${suffix}`;
          add({ name: prefix + bare, alias: textbook ? SEED_ALIASES[bare] : undefined, role, stack, layer, direction, shape, initBound: k });
        };
        tensor('weight_ih', [rows, n_in]);
        tensor('weight_hh', [rows, s.n_a]);
        if (s.bias !== false) {
          tensor('bias_ih', [rows]);
          tensor('bias_hh', [rows]);
        }
      }
    }
  });
  if (spec.head) {
    // PyTorch's nn.Linear init: weight and bias ~ U(−1/√fan_in, 1/√fan_in)
    const bound = 1 / Math.sqrt(spec.head.n_in);
    if (!spec.head.tied) add({ name: 'head.weight', alias: 'W_ya', role: 'head_weight', stack: -1, layer: 0, direction: 0, shape: [spec.head.n_y, spec.head.n_in], initBound: bound });
    if (spec.head.bias !== false) add({ name: 'head.bias', alias: spec.head.tied ? undefined : 'b_y', role: 'head_bias', stack: -1, layer: 0, direction: 0, shape: [spec.head.n_y], initBound: bound });
  }
  const linears = new Map<string, { weight: TensorEntry; bias: TensorEntry }>();
  for (const { name, n_in, n_out } of spec.linears ?? []) {
    if (name === 'head' || linears.has(name)) throw new RangeError(`layout: linear layer name '${name}' is taken`);
    // nn.Linear's init, as for the head
    const bound = 1 / Math.sqrt(n_in);
    add({ name: `${name}.weight`, role: 'linear_weight', stack: -1, layer: 0, direction: 0, shape: [n_out, n_in], initBound: bound });
    add({ name: `${name}.bias`, role: 'linear_bias', stack: -1, layer: 0, direction: 0, shape: [n_out], initBound: bound });
    linears.set(name, { weight: entries[entries.length - 2], bias: entries[entries.length - 1] });
  }
  for (const { name, n_in, n_out } of spec.matrices ?? []) {
    if (entries.some((e) => e.name === name)) throw new RangeError(`layout: tensor name '${name}' is taken`);
    // nn.Linear's weight init: U(−1/√fan_in, 1/√fan_in)
    add({ name, role: 'matrix', stack: -1, layer: 0, direction: 0, shape: [n_out, n_in], initBound: 1 / Math.sqrt(n_in) });
  }
  const tables = spec.embeddings ?? [];
  const headTable = spec.head?.tied;
  let trainable = offset;
  for (const frozen of [false, true]) {
    if (frozen) trainable = offset;
    for (const t of tables.filter((x) => x.frozen === frozen)) {
      const tied = t.name === headTable;
      if (tied && (t.V !== spec.head!.n_y || t.E !== spec.head!.n_in)) {
        throw new RangeError(`layout: the output layer (${spec.head!.n_y}, ${spec.head!.n_in}) cannot be tied to ${t.name} (${t.V}, ${t.E})`);
      }
      // nn.Embedding's init N(0, 1); a table that is also the output layer starts as nn.Linear's weight
      add({
        name: `${t.name}.weight`, role: 'embedding', stack: -1, layer: 0, direction: 0, shape: [t.V, t.E],
        initBound: 1 / Math.sqrt(t.E), init: tied ? undefined : 'normal', zeroRow: t.paddingIdx,
        ...(t.tiedNames || tied ? { tiedNames: [...(t.tiedNames ?? []), ...(tied ? ['head.weight'] : [])] } : {}),
      });
    }
  }
  if (headTable !== undefined && !tables.some((t) => t.name === headTable)) throw new RangeError(`layout: the output layer is tied to '${headTable}', which is not an embedding`);

  const byName = new Map<string, TensorEntry>();
  for (const e of entries) {
    for (const name of [e.name, ...(e.alias ? [e.alias] : []), ...(e.tiedNames ?? [])]) {
      if (byName.has(name)) throw new RangeError(`layout: tensor name '${name}' is taken`);
      byName.set(name, e);
    }
  }
  const cells = new Map<string, CellParams>();
  for (const e of entries) {
    if (e.stack < 0) continue;
    const key = `${e.stack}/${e.layer}/${e.direction}`;
    const c = cells.get(key) ?? ({} as CellParams);
    c[e.role as keyof CellParams] = e;
    cells.set(key, c);
  }
  const headBias = byName.get('head.bias');
  const head = byName.get('head.weight') && { weight: byName.get('head.weight')!, ...(headBias ? { bias: headBias } : {}) };
  return {
    entries,
    size: offset,
    trainable,
    get: (name) => byName.get(name),
    cell: (stack, layer, direction) => {
      const c = cells.get(`${stack}/${layer}/${direction}`);
      if (!c) throw new RangeError(`layout: no cell for stack ${stack}, layer ${layer}, direction ${direction}`);
      return c;
    },
    head: () => head,
    linear: (name) => linears.get(name),
    embedding: (name) => byName.get(`${name}.weight`),
  };
}

/** Fill a parameter region with a layout's initial values, drawn in layout order from `draw`
 *  (uniform in [0, 1)): U(−bound, bound) per tensor, or N(0, 1) (Box–Muller) where the entry
 *  says 'normal'; a zero row is cleared after its tensor is drawn. */
export function initialise(layout: Layout, w: Float32Array, draw: () => number): void {
  for (const e of layout.entries) {
    if (e.init === 'normal') {
      for (let i = 0; i < e.length; i += 2) {
        const r = Math.sqrt(-2 * Math.log(1 - draw())), theta = 2 * Math.PI * draw();
        w[e.offset + i] = r * Math.cos(theta);
        if (i + 1 < e.length) w[e.offset + i + 1] = r * Math.sin(theta);
      }
    } else {
      for (let i = 0; i < e.length; i++) w[e.offset + i] = (2 * draw() - 1) * e.initBound;
    }
    if (e.zeroRow !== undefined) {
      const n = e.shape[1];
      w.fill(0, e.offset + e.zeroRow * n, e.offset + (e.zeroRow + 1) * n);
    }
  }
}
