// The parameter layout table: the only place that knows which tensor lives where.
//
// All parameters of a model are one contiguous f32 region; gradients and optimizer moments
// are regions of the same size with the same table, so clipping and optimizer steps are
// single loops. Order and names follow PyTorch's state_dict (nn.RNN: weight_ih_l0,
// weight_hh_l0, bias_ih_l0, bias_hh_l0, then _reverse, then l1, ...), then the output
// layer. Shapes are row-major (out, in).
//
// Seed names (the textbook's) alias the vanilla cell's tensors:
//   W_ax = weight_ih_l0 (n_a, n_x)    W_aa = weight_hh_l0 (n_a, n_a)
//   b_x  = bias_ih_l0   (n_a)         b_a  = bias_hh_l0   (n_a)
//   W_ya = head.weight  (n_y, n_a)    b_y  = head.bias    (n_y)

export type CellKind = 'rnn';

/** What the layout depends on. */
export interface LayoutSpec {
  cell: CellKind;
  n_x: number;
  n_a: number;
  n_y: number;
  layers: number;
}

export type TensorRole = 'weight_ih' | 'weight_hh' | 'bias_ih' | 'bias_hh' | 'head_weight' | 'head_bias';

export interface TensorEntry {
  /** PyTorch-style name, the canonical one (file format, params object). */
  readonly name: string;
  /** The textbook name, when the tensor has one. */
  readonly alias?: string;
  readonly role: TensorRole;
  /** Layer index, or -1 for the output layer. */
  readonly layer: number;
  readonly shape: readonly number[];
  /** Offset into the region, in f32 elements. */
  readonly offset: number;
  readonly length: number;
  /** Initialisation bound: values are drawn uniformly from (−bound, bound). */
  readonly initBound: number;
}

export interface Layout {
  readonly entries: readonly TensorEntry[];
  /** Total f32 values. */
  readonly size: number;
  /** Lookup by canonical name or alias. */
  get(name: string): TensorEntry | undefined;
  /** The tensors of one layer by role. */
  layer(l: number): Record<'weight_ih' | 'weight_hh' | 'bias_ih' | 'bias_hh', TensorEntry>;
  head(): { weight: TensorEntry; bias: TensorEntry };
}

/** Gates per cell: rows of weight_ih / weight_hh are gates · n_a. */
export const GATES: Record<CellKind, number> = { rnn: 1 };

const SEED_ALIASES: Record<string, string> = {
  weight_ih_l0: 'W_ax', weight_hh_l0: 'W_aa', bias_ih_l0: 'b_x', bias_hh_l0: 'b_a',
  'head.weight': 'W_ya', 'head.bias': 'b_y',
};

export function buildLayout(spec: LayoutSpec): Layout {
  const { n_x, n_a, n_y, layers } = spec;
  const rows = GATES[spec.cell] * n_a;
  const entries: TensorEntry[] = [];
  let offset = 0;
  const add = (name: string, role: TensorRole, layer: number, shape: number[], initBound: number): void => {
    const length = shape.reduce((a, b) => a * b, 1);
    const alias = layer <= 0 && (layers === 1 || layer === -1) ? SEED_ALIASES[name] : undefined;
    entries.push({ name, alias, role, layer, shape, offset, length, initBound });
    offset += length;
  };
  // PyTorch nn.RNN init: every recurrent tensor ~ U(−1/√n_a, 1/√n_a)
  const k = 1 / Math.sqrt(n_a);
  for (let l = 0; l < layers; l++) {
    const n_in = l === 0 ? n_x : n_a;
    add(`weight_ih_l${l}`, 'weight_ih', l, [rows, n_in], k);
    add(`weight_hh_l${l}`, 'weight_hh', l, [rows, n_a], k);
    add(`bias_ih_l${l}`, 'bias_ih', l, [rows], k);
    add(`bias_hh_l${l}`, 'bias_hh', l, [rows], k);
  }
  // PyTorch nn.Linear init: weight and bias ~ U(−1/√fan_in, 1/√fan_in)
  add('head.weight', 'head_weight', -1, [n_y, n_a], 1 / Math.sqrt(n_a));
  add('head.bias', 'head_bias', -1, [n_y], 1 / Math.sqrt(n_a));

  const byName = new Map<string, TensorEntry>();
  for (const e of entries) {
    byName.set(e.name, e);
    if (e.alias) byName.set(e.alias, e);
  }
  return {
    entries,
    size: offset,
    get: (name) => byName.get(name),
    layer: (l) => ({
      weight_ih: byName.get(`weight_ih_l${l}`)!,
      weight_hh: byName.get(`weight_hh_l${l}`)!,
      bias_ih: byName.get(`bias_ih_l${l}`)!,
      bias_hh: byName.get(`bias_hh_l${l}`)!,
    }),
    head: () => ({ weight: byName.get('head.weight')!, bias: byName.get('head.bias')! }),
  };
}
