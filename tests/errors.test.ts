// Bad input: a TypeError or RangeError that names the argument, what was expected and what
// arrived, thrown before wasm is entered; the model is unchanged and still works after.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { inspect } from 'node:util';
import { CharTokenizer, createModel, createRNN, Random } from '../dist/index.js';
import { checkSame, randomBatch, rejectsWith, throwsWith, modelConfig } from './_utils.js';

const Config = suite('bad configuration');

Config('sizes must be positive integers', async () => {
  await rejectsWith(createRNN({ n_x: 3, n_a: -4, n_y: 2 }), RangeError, /n_a must be an integer ≥ 1, got -4/);
  await rejectsWith(createRNN({ n_x: 3.5, n_a: 4, n_y: 2 }), RangeError, /n_x must be an integer ≥ 1, got 3.5/);
  await rejectsWith(createRNN({ n_x: 3, n_a: 4, n_y: 0 }), RangeError, /n_y must be an integer ≥ 1, got 0/);
  await rejectsWith(createRNN({ n_x: 3, n_a: '4' as any, n_y: 2 }), TypeError, /n_a must be an integer ≥ 1, got "4"/);
  await rejectsWith(createRNN({ n_x: 3, n_a: 4 } as any), TypeError, /n_y must be an integer ≥ 1, got undefined/);
  await rejectsWith(createRNN({ n_x: 3, n_a: 4, n_y: 2, layers: 0 }), RangeError, /layers must be an integer ≥ 1, got 0/);
  await rejectsWith(createRNN({ n_x: 3, n_a: 4, n_y: 2, seed: -1 }), RangeError, /seed must be an integer ≥ 0, got -1/);
});

Config('choices must be known', async () => {
  await rejectsWith(createRNN({ n_x: 3, n_a: 4, n_y: 2, input: 'onehot' as any }), TypeError, /input must be one of 'tokens', 'dense', got "onehot"/);
  await rejectsWith(createRNN({ n_x: 3, n_a: 4, n_y: 2, output: 'tanh' as any }), TypeError, /output must be one of 'softmax', 'sigmoid', 'linear', got "tanh"/);
  await rejectsWith(createRNN({ n_x: 3, n_a: 4, n_y: 2, backend: 'gpu' as any }), TypeError, /backend must be 'auto', 'relaxed', 'simd' or 'scalar', got "gpu"/);
  await rejectsWith(createRNN({ n_x: 3, n_a: 4, n_y: 2, cell: 'lstn' as any }), TypeError, /cell must be one of 'rnn', 'lstm', 'gru', got "lstn"; did you mean 'lstm'\?$/);
});

Config('a misspelt field is a compile error (npm run typecheck) and a runtime TypeError; the config still types the model', async () => {
  // @ts-expect-error: `layer` is no field of RNNConfig (layers is)
  await rejectsWith(createRNN({ n_x: 1, n_a: 1, n_y: 1, layer: 2 }), TypeError, /^createRNN: config has no field "layer"; did you mean layers\?$/);
  // tokenizers are createModel's: the error says where they go
  const chars = CharTokenizer.fromText('abc');
  // @ts-expect-error: an RNN keeps no tokenizers
  await rejectsWith(createRNN({ n_x: chars.size, n_a: 4, n_y: chars.size, input: 'tokens', tokenizers: { x: chars } }), TypeError,
    /^createRNN: config has no field "tokenizers": an RNN keeps none; createModel\(\{ architecture: 'many-to-many', …, tokenizers \}\) makes the same model/);
  const config = { n_x: 3, n_a: 4, n_y: 2, outputs: 'linear' };
  // @ts-expect-error: a variable with an extra field is refused as well
  await rejectsWith(createRNN(config), TypeError, /^createRNN: config has no field "outputs"; did you mean output\?$/);
  // input and output are still read from the literal: this model takes token ids and predicts vectors
  const m = await createRNN({ n_x: 3, n_a: 4, n_y: 2, input: 'tokens', output: 'linear', seed: 1 });
  const input: 'tokens' = m.config.input, output: 'linear' = m.config.output;
  m.trainStep({ x: [[0, 1]], y: [[[0.5, 1], [1, 0.5]]] });
  // @ts-expect-error: class ids are no target of a linear output
  throwsWith(() => m.trainStep({ x: [[0, 1]], y: [[0, 1]] }), TypeError, /y\[0\] is a flat array of 2 numbers/);
  assert.equal([input, output], ['tokens', 'linear']);
  m.dispose();
});

Config('createModel: a misspelt field, or one of another architecture, is a compile error and a runtime TypeError', async () => {
  // @ts-expect-error: `layer` is no field of a many-to-one config (layers is)
  await rejectsWith(createModel({ architecture: 'many-to-one', n_x: 1, n_a: 1, n_y: 1, layer: 2 }), TypeError, /^createModel: .*"layer"; did you mean layers\?$/);
  // @ts-expect-error: startToken belongs to one-to-many
  await rejectsWith(createModel({ architecture: 'many-to-one', n_x: 1, n_a: 1, n_y: 1, startToken: 0 }), TypeError, /^createModel: .many-to-one. takes no startToken/);
  const m = await createModel({ architecture: 'one-to-many', n_a: 4, n_y: 3, startToken: 0, seed: 1 });
  assert.is(m.architecture, 'one-to-many');
  m.dispose();
});

Config.run();

// ---

const Input = suite('bad batches leave the model working');

const tokens = { T: 4, B: 2, n_x: 5, n_a: 6, n_y: 3, input: 'tokens', output: 'softmax' } as const;
const dense = { T: 4, B: 2, n_x: 3, n_a: 6, n_y: 2, input: 'dense', output: 'sigmoid' } as const;

async function withModel(spec: typeof tokens | typeof dense, check: (m: any, good: any) => void | Promise<unknown>) {
  const m = await createRNN({ ...modelConfig(spec), seed: 1 });
  const good = randomBatch(new Random(1), spec);
  const before = m.forward(good);
  const weights = m.getWeights();
  await check(m, good);
  checkSame('weights unchanged', m.getWeights(), weights);
  checkSame('forward unchanged', m.forward(good).yhat, before.yhat);
  m.trainStep(good);                                        // still trains
  m.dispose();
}

Input('tokens: out of range, not integers, not numbers', () => withModel(tokens, (m, good) => {
  throwsWith(() => m.forward({ x: [[0, 1, 5, 2], [0, 1, 2, 3]] }), RangeError, /x\[0\]\[2\] = 5 is out of range; token ids must be in \[0, n_x\) = \[0, 5\)/);
  throwsWith(() => m.forward({ x: [[0, 1, 2, 3], [0, -1, 2, 3]] }), RangeError, /x\[1\]\[1\] = -1 is out of range/);
  throwsWith(() => m.forward({ x: [[0, 1.5, 2, 3], [0, 1, 2, 3]] }), TypeError, /x\[0\]\[1\] must be an integer token id, got 1.5/);
  throwsWith(() => m.forward({ x: [[0, NaN, 2, 3], [0, 1, 2, 3]] }), TypeError, /x\[0\]\[1\] must be an integer token id, got NaN/);
  throwsWith(() => m.forward({ x: [[0, 'a', 2, 3]] }), TypeError, /x\[0\]\[1\] must be a token id \(integer\), got "a"/);
  throwsWith(() => m.trainStep({ x: good.x, y: [[0, 1, 2, 3], [0, 1, 2, 3]] }), RangeError, /y\[0\]\[3\] = 3 is out of range; class ids must be in \[0, n_y\) = \[0, 3\)/);
}));

Input('shapes: empty, not a batch, targets that do not match their inputs', () => withModel(tokens, (m, good) => {
  throwsWith(() => m.forward({ x: [] }), RangeError, /x must hold at least one sequence, got an empty batch/);
  throwsWith(() => m.forward({ x: [[]] }), RangeError, /x\[0\] is an empty sequence/);
  throwsWith(() => m.trainStep({ x: [[0, 1, 2], [0, 1]], y: [[0, 1, 2], [0, 1, 2]] }), RangeError, /y\[1\] has 3 class ids, but x\[1\] has 2 steps; give one target per input step/);
  throwsWith(() => m.forward({ x: [0, 1, 2] }), TypeError, /x\[0\] must be a sequence .*got 0 \(wrap a single sequence s as \[s\]\)/);
  throwsWith(() => m.forward({ x: 'abc' }), TypeError, /x must be an array of sequences \(a batch\), got "abc"/);
  throwsWith(() => m.trainStep({ x: good.x, y: [good.y[0]] }), RangeError, /y must have one target sequence per input sequence \(B = 2\), got 1/);
  throwsWith(() => m.trainStep({ x: good.x, y: [[0, 1], [0, 1]] }), RangeError, /y\[0\] has 2 class ids, but x\[0\] has 4 steps/);
  throwsWith(() => m.trainStep({ x: good.x }), TypeError, /batch.y \(targets\) is required/);
  throwsWith(() => m.forward(null), TypeError, /batch must be \{ x, y\? \}, got null/);
}));

Input('dense: wrong feature width, NaN and Infinity, bad targets', () => withModel(dense, (m, good) => {
  const x = good.x.map((s: number[][]) => s.map((r) => r.slice()));
  x[1][2] = [1, 2];
  throwsWith(() => m.forward({ x }), RangeError, /x\[1\]\[2\] has 2 features, the model expects n_x = 3/);
  throwsWith(() => m.forward({ x: [new Float32Array(7)] }), RangeError, /x\[0\] is a flat array of 7 values, not a multiple of n_x = 3/);
  const bad = good.x.map((s: number[][]) => s.map((r) => r.slice()));
  bad[0][1][0] = NaN;
  throwsWith(() => m.forward({ x: bad }), RangeError, /x\[0\] step 1 feature 0 is NaN; inputs must be finite/);
  bad[0][1][0] = Infinity;
  throwsWith(() => m.forward({ x: bad }), RangeError, /x\[0\] step 1 feature 0 is Infinity/);
  const y = good.y.map((s: number[][]) => s.map((r) => r.slice()));
  y[0][0][1] = 1.5;
  throwsWith(() => m.trainStep({ x: good.x, y }), RangeError, /y\[0\] step 0 value 1 is 1.5; sigmoid targets must be in \[0, 1\]/);
  throwsWith(() => m.forward({ x: good.x, a0: [1, 2] }), RangeError, /a0 \(layers · directions × B × n_a = 1 × 2 × 6\) must have 12 values, got 2/);
  throwsWith(() => m.forward({ x: good.x, a0: new Array(12).fill(NaN) }), RangeError, /a0 .* must hold finite numbers, got NaN at \[0\]/);
}));

Input('the wrong kind of input or target says what the model takes; counts agree with their nouns', async () => {
  const m = await createRNN({ n_x: 3, n_a: 4, n_y: 2, output: 'linear', seed: 1 });
  const x = [[[0.1, 0.2, 0.3], [1, 2, 3]]];
  const before = m.forward({ x }).yhat, weights = m.getWeights();
  // class ids where a linear output takes vectors of n_y values
  throwsWith(() => m.forward({ x, y: [[0, 1]] as any }), TypeError,
    /^forward: y\[0\] is a flat array of 2 numbers, one per step of x\[0\] \(class ids\?\); a linear output takes a vector of n_y = 2 values per step \(class ids are the targets of a softmax output\)$/);
  throwsWith(() => m.trainStep({ x, y: [[0, 1, 1]] as any }), RangeError,
    /^trainStep: y\[0\] is a flat array of 3 values, not a multiple of n_y = 2 values per step; a linear output takes a vector of n_y = 2 values per step/);
  // token ids given to a dense model
  throwsWith(() => m.forward({ x: [[0, 1]] }), RangeError,
    /^forward: x\[0\] is a flat array of 2 values, not a multiple of n_x = 3 features per step; this model's input is 'dense', a vector of n_x values per step \(token ids need input: 'tokens'\)$/);
  // one step, one feature, one value: singular
  throwsWith(() => m.forward({ x: [[[0.1]]] }), RangeError, /^forward: x\[0\]\[0\] has 1 feature, the model expects n_x = 3$/);
  throwsWith(() => m.forward({ x, y: [[[1, 0]]] }), RangeError, /^forward: y\[0\] has 1 step, but x\[0\] has 2 steps; give one target per input step$/);
  throwsWith(() => m.forward({ x, y: [[[1], [0]]] }), RangeError, /^forward: y\[0\]\[0\] has 1 value, the model expects n_y = 2$/);
  throwsWith(() => m.forward({ x, y: [[[1, NaN], [0, 0]]] }), RangeError, /^forward: y\[0\] step 0 value 1 is NaN; targets must be finite$/);
  // what is right is still taken: rows, and every step's values flat
  const loss = m.forward({ x, y: [[[1, 0], [0, 1]]] }).loss;
  assert.is(m.forward({ x, y: [Float32Array.of(1, 0, 0, 1)] }).loss, loss);
  assert.is(m.forward({ x, y: [[1, 0, 0, 1]] as any }).loss, loss);
  checkSame('weights unchanged', m.getWeights(), weights);
  checkSame('forward unchanged', m.forward({ x }).yhat, before);
  const t = await createRNN({ n_x: 3, n_a: 4, n_y: 3, input: 'tokens', seed: 1 });
  // vectors given to a token model
  throwsWith(() => t.forward({ x: [[[0.1, 0.2, 0.3]]] as any }), TypeError,
    /^forward: x\[0\]\[0\] must be a token id \(integer\), got an array of length 3 \(this model's input is 'tokens', one id per step; vectors of features need input: 'dense'\)$/);
  throwsWith(() => t.forward({ x: [[0, 1]], y: [[2]] }), RangeError, /^forward: y\[0\] has 1 class id, but x\[0\] has 2 steps/);
  throwsWith(() => t.forward({ x: [[0]], y: [[2, 1]] }), RangeError, /^forward: y\[0\] has 2 class ids, but x\[0\] has 1 step;/);
  m.dispose(); t.dispose();
});

Input('training options and parameters', () => withModel(tokens, (m, good) => {
  throwsWith(() => m.trainStep(good, { learningRate: -1 }), RangeError, /learningRate must be a finite number ≥ 0, got -1/);
  throwsWith(() => m.trainStep(good, { optimizer: 'lbfgs' }), TypeError, /optimizer must be one of 'sgd', 'adam', 'adamw', 'rmsprop', 'adagrad' \(or \{ type, … \}\), got "lbfgs"$/);
  throwsWith(() => m.trainStep(good, { optimizer: 'adma' as any }), TypeError, /^trainStep: optimizer must be one of 'sgd', .* \(or \{ type, … \}\), got "adma"; did you mean 'adam'\?$/);
  throwsWith(() => m.trainStep(good, { optimizer: { type: 'adma' } as any }), TypeError, /^trainStep: optimizer.type must be one of 'sgd', .*, got "adma"; did you mean 'adam'\?$/);
  throwsWith(() => m.trainStep(good, { optimizer: 5 as any }), TypeError, /^trainStep: optimizer must be one of 'sgd', .* \(or \{ type, … \}\), got 5$/);
  throwsWith(() => m.trainStep(good, { schedule: 'cosin' as any }), TypeError, /^trainStep: schedule must be one of 'constant', .* \(or \{ type, … \}\), got "cosin"; did you mean 'cosine'\?$/);
  throwsWith(() => m.trainStep(good, { clipNorm: NaN }), RangeError, /clipNorm must be a finite number ≥ 0, got NaN/);
  throwsWith(() => m.trainStep(good, { optimizer: { type: 'sgd', nesterov: true } }), RangeError, /Nesterov momentum needs momentum > 0/);
  throwsWith(() => m.setParam('W_aa', new Float32Array(5)), RangeError, /values for W_aa \(= weight_hh_l0\) \(shape \[6, 6\]\) must have 36 values, got 5/);
  throwsWith(() => m.setParam('W_zz', new Float32Array(5)), RangeError, /no parameter named "W_zz"; this model has weight_ih_l0 \(W_ax\)/);
  throwsWith(() => { m.params.b_a = [1, 2, NaN, 4, 5, 6]; }, RangeError, /values for b_a \(= bias_hh_l0\) \(shape \[6\]\) must hold finite numbers, got NaN at \[2\]/);
}));

Input('params.NAME with a name the model does not have is an error listing its names; keys, in, spreading, JSON and inspect are as before', async () => {
  const m = await createModel({ architecture: 'many-to-one', cell: 'gru', n_x: 2, n_a: 3, n_y: 2, seed: 1 });
  const names = 'weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, head.weight, head.bias';
  throwsWith(() => m.params.weight_hh_l1, RangeError, /^params\.weight_hh_l1: no parameter named "weight_hh_l1"; this model has weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, head\.weight \(W_ya\), head\.bias \(b_y\)$/);
  throwsWith(() => m.params['head.weihgt'], RangeError, /^params\.head\.weihgt: no parameter named "head\.weihgt"; this model has weight_ih_l0, /);
  const weights = m.getWeights();
  throwsWith(() => { m.params.W_hh = new Float32Array(27); }, RangeError, /^params\.W_hh: no parameter named "W_hh"; /);
  checkSame('weights after the refused assignment', m.getWeights(), weights);
  // what reads the object as an object is unchanged: its own keys are the canonical names
  assert.equal(Object.keys(m.params), names.split(', '));
  assert.ok('head.bias' in m.params && 'W_ya' in m.params && !('W_hh' in m.params));
  assert.is(m.params.W_ya.length, 6);
  assert.equal(Object.keys({ ...m.params }), names.split(', '));
  assert.equal(Object.keys(JSON.parse(JSON.stringify(m.params))), names.split(', '));
  assert.match(inspect(m.params), /'head\.bias': \[Getter\/Setter\]/);
  assert.ok(Object.isFrozen(m.params) && m.params.hasOwnProperty('head.bias'));
  assert.is(await Promise.resolve(m.params), m.params, 'no then');
  for (const probe of ['toJSON', 'then', 'asymmetricMatch', '$$typeof', '_private', 'nodeType']) assert.is((m.params as any)[probe], undefined, probe);
  assert.is(m.params[Symbol.iterator as any], undefined);
  assert.is(m.params['head.bias'].length, 2);
  m.dispose();
});

Input('an update that would make a weight or a moment not finite is refused as a non-finite loss is, with every optimizer; the model is as it was', async () => {
  const batch = { x: [[[1, 2], [3, -1], [0.5, 2]]], y: [[[50], [-40], [30]]] };
  const optimizers = ['sgd', { type: 'sgd', momentum: 0.9, nesterov: true }, 'adam', 'adamw', 'rmsprop', { type: 'rmsprop', momentum: 0.5 }, 'adagrad'] as const;
  for (const optimizer of optimizers) {
    const m = await createRNN({ cell: 'lstm', n_x: 2, n_a: 3, n_y: 1, output: 'linear', seed: 1 });
    m.trainStep(batch, { optimizer, learningRate: 0.01 });
    const before = m.getTrainingState();
    const label = JSON.stringify(optimizer);
    // 3e38 overflows SGD's and RMSProp's updates; Adam's step size lr / (1 − β1^t) and a rate of
    // 1e39 (Infinity in f32) overflow the others
    const huge = { optimizer, learningRate: optimizer === 'adagrad' ? 1e39 : 3e38 };
    throwsWith(() => m.trainStep(batch, huge), RangeError,
      /^trainStep: the update with learning rate \S+ would make weight_ih_l0\[0\] \(or its optimizer moments\) not finite at optimizer step 2; the weights were left unchanged/);
    assert.equal(m.getTrainingState(), before, `${label}: weights, moments and step as before`);
    const skipped = m.trainStep(batch, { ...huge, onNonFinite: 'skip' });
    assert.equal([skipped.applied, Number.isFinite(skipped.loss)], [false, true], label);
    assert.equal(m.getTrainingState(), before, `${label}: skipped`);
    const weights = m.getWeights();
    const fit = await m.fit({ x: [batch.x[0], batch.x[0]], y: [batch.y[0], batch.y[0]] }, { ...huge, batchSize: 1, epochs: 2, onNonFinite: 'stop' });
    assert.equal([fit.stopReason, fit.steps], ['non-finite', 0], label);
    assert.match(fit.message!, /^the update with learning rate \S+ would make weight_ih_l0\[0\] \(or its optimizer moments\) not finite at optimizer step 2 \(epoch 1 of 2, batch 1 of 2\)/);
    checkSame(`${label}: fit stopped with the weights it had`, m.getWeights(), weights);
    const state = m.getTrainingState();
    // an optimizer of another config is taken only by an update that is applied: the model's
    // own (and its moments) stay when the first update of a new one is refused
    throwsWith(() => m.trainStep(batch, { optimizer: { type: 'sgd', momentum: 0.1 }, learningRate: 3e38 }), RangeError, /would make/);
    assert.equal(m.getTrainingState(), state, `${label}: the model keeps its optimizer`);
    assert.ok(m.trainStep(batch, { optimizer, learningRate: 0.01 }).applied, `${label}: trains on`);
    m.dispose();
  }
});

Input('fit validates before the first step', () => withModel(tokens, (m, good) => {
  return Promise.all([
    rejectsWith(m.fit({ x: good.x, y: good.y }, { epochs: 0 }), RangeError, /epochs must be an integer ≥ 1, got 0/),
    rejectsWith(m.fit({ x: good.x, y: good.y.slice(1) }), RangeError, /data.y must have one target per input \(2\), got 1/),
    rejectsWith(m.fit({ x: good.x, y: good.y }, { batchSize: 2.5 }), RangeError, /batchSize must be an integer ≥ 1, got 2.5/),
  ]);
}));

Input('a non-finite gradient stops the step and names the tensor; weights stay as they were', async () => {
  const m = await createRNN({ ...modelConfig(dense), output: 'linear', seed: 1 });
  const good = randomBatch(new Random(1), { ...dense, output: 'linear' });
  m.setParam('W_ya', new Float32Array(12).fill(3e38));     // the output overflows f32
  const weights = m.getWeights();
  throwsWith(() => m.trainStep(good), RangeError, /trainStep: the loss is (Infinity|NaN) at optimizer step 1; the weights were left unchanged/);
  checkSame('weights', m.getWeights(), weights);
  const r = m.trainStep(good, { onNonFinite: 'skip' });
  assert.is(r.applied, false);
  checkSame('weights after skip', m.getWeights(), weights);
  m.dispose();
});

Input.run();

// ---

const Disposed = suite('a disposed model');

/** Each public method every model has, called as a user would; on a disposed model each must
 *  throw (or, for fit, reject with) a TypeError naming itself, before it looks at its arguments. */
const shared: Record<string, (m: any, a: { name: string; file: Uint8Array; state: Uint8Array; weights: Float32Array }) => unknown> = {
  getParam: (m, a) => m.getParam(a.name),
  setParam: (m, a) => m.setParam(a.name, new Float32Array(m.layout.get(a.name).length)),
  [`params.NAME`]: (m, a) => m.params[a.name],
  [`params.NAME =`]: (m, a) => { m.params[a.name] = new Float32Array(m.layout.get(a.name).length); },
  getWeights: (m) => m.getWeights(),
  setWeights: (m, a) => m.setWeights(a.weights),
  weightsView: (m) => m.weightsView(),
  save: (m) => m.save(),
  loadWeights: (m, a) => m.loadWeights(a.file),
  getTrainingState: (m) => m.getTrainingState(),
  setTrainingState: (m, a) => m.setTrainingState(a.state),
  computeGradients: (m) => m.computeGradients({ x: [], y: [] }),
  gradientsView: (m) => m.gradientsView(),
  trainStep: (m) => m.trainStep({ x: [], y: [] }),
  evaluate: (m) => m.evaluate({ x: [], y: [] }),
  fit: (m) => m.fit({ x: [], y: [] }),
};

/** Network's methods that need no guard (they work on a disposed model) or are not public. */
const unguarded = [
  'constructor', 'numParams', 'memoryBytes', 'isDisposed', 'dispose', 'live', 'readParam', 'writeParam', 'truncatedWindows', 'checkBatch',
  'supportedMetrics', 'batchStats', 'evaluateBatch', 'gradientEntries', 'entry', 'ptr', 'trainable', 'makeParamsObject',
];

const kinds = {
  'createRNN (tokens, GRU)': () => createRNN({ n_x: 5, n_a: 4, n_y: 5, input: 'tokens', cell: 'gru', seed: 1 }),
  'createRNN (dense, LSTM, 2 layers)': () => createRNN({ n_x: 3, n_a: 4, n_y: 2, cell: 'lstm', layers: 2, output: 'sigmoid', seed: 1 }),
  'one-to-one': () => createModel({ architecture: 'one-to-one', n_x: 2, n_a: 4, n_y: 3, seed: 1 }),
  'one-to-many': () => createModel({ architecture: 'one-to-many', n_y: 5, n_a: 4, startToken: 0, seed: 1 }),
  'many-to-one': () => createModel({ architecture: 'many-to-one', input: 'tokens', output: 'linear', n_x: 5, n_a: 4, n_y: 2, seed: 1 }),
  'many-to-many': () => createModel({ architecture: 'many-to-many', input: 'tokens', n_x: 5, n_a: 4, n_y: 3, seed: 1 }),
  'encoder-decoder': () => createModel({ architecture: 'encoder-decoder', input: 'tokens', n_x: 6, n_y: 4, n_a: 4, attention: 'dot', seed: 1 }),
};

Disposed('every method every model has names itself in a TypeError; nothing else changes', async () => {
  for (const [kind, make] of Object.entries(kinds)) {
    const m: any = await make();
    const a = { name: m.layout.entries[0].name, file: m.save(), state: m.getTrainingState(), weights: m.getWeights() };
    const config = JSON.stringify(m.toJSON());
    m.dispose();
    for (const [method, call] of Object.entries(shared)) {
      const where = method.startsWith('params.') ? `params.${a.name}` : method;
      const pattern = new RegExp(`^${where.replace(/\./g, '\\.')}: this model was disposed; its memory has been returned$`);
      let result: unknown;
      try {
        result = call(m, a);
      } catch (e) {
        assert.ok(method !== 'fit', `${kind}: fit rejects rather than throws`);
        assert.instance(e, TypeError, `${kind}: ${method}: ${(e as Error).message}`);
        assert.match((e as Error).message, pattern, `${kind}: ${method}`);
        continue;
      }
      assert.instance(result, Promise, `${kind}: ${method} was accepted on a disposed model`);
      await rejectsWith(result as Promise<unknown>, TypeError, pattern);
    }
    // what needs no memory still answers; dispose() again does nothing
    assert.ok(m.isDisposed);
    assert.is(JSON.stringify(m.toJSON()), config);
    assert.is(m.memoryBytes, 0);
    m.dispose();
  }
});

Disposed('the list above is every public method of Network (a new one must be guarded and listed)', async () => {
  const m: any = await createRNN({ n_x: 2, n_a: 2, n_y: 2, seed: 1 });
  let network = Object.getPrototypeOf(m);
  while (network.constructor.name !== 'Network') network = Object.getPrototypeOf(network);
  const listed = new Set([...Object.keys(shared).filter((k) => !k.startsWith('params.')), ...unguarded]);
  assert.equal(Object.getOwnPropertyNames(network).filter((k) => !listed.has(k)), []);
  m.dispose();
});

/** Each kind's own methods (generation, prediction, stepping), called as a user would. */
const own: Record<string, Record<string, (m: any) => unknown>> = {
  'createRNN (tokens, GRU)': {
    forward: (m) => m.forward({ x: [[0, 1]] }), sample: (m) => m.sample({ length: 3 }), generate: (m) => m.generate({ prefix: [0], maxLength: 3 }),
    stream: (m) => m.stream({ prefix: [0], maxLength: 3 }), generateMany: (m) => m.generateMany(2, { prefix: [0], maxLength: 3 }),
    beamSearch: (m) => m.beamSearch({ prefix: [0], beamWidth: 2, maxLength: 3 }),
  },
  'one-to-one': { forward: (m) => m.forward({ x: [[0, 1]] }), predict: (m) => m.predict([[0, 1]]) },
  'one-to-many': {
    forward: (m) => m.forward({ x: [0], y: [[1, 2]] }), generate: (m) => m.generate({ maxLength: 3 }), stream: (m) => m.stream({ maxLength: 3 }),
    generateMany: (m) => m.generateMany(2, { maxLength: 3 }), beamSearch: (m) => m.beamSearch({ beamWidth: 2, maxLength: 3 }),
    step: (m) => m.step(0), resetState: (m) => m.resetState(),
  },
  'many-to-one': { forward: (m) => m.forward({ x: [[0, 1]] }), predict: (m) => m.predict([[0, 1]]), step: (m) => m.step(0), resetState: (m) => m.resetState() },
  'many-to-many': { forward: (m) => m.forward({ x: [[0, 1]] }), predict: (m) => m.predict([[0, 1]]), step: (m) => m.step(0), resetState: (m) => m.resetState() },
  'encoder-decoder': {
    forward: (m) => m.forward({ x: [[0, 1]], y: [[1, 2]] }), generate: (m) => m.generate([0, 1], { maxLength: 3 }),
    generateBatch: (m) => m.generateBatch([[0, 1]], { maxLength: 3 }), stream: (m) => m.stream([0, 1], { maxLength: 3 }),
    beamSearch: (m) => m.beamSearch([0, 1], { beamWidth: 2, maxLength: 3 }), resetState: (m) => m.resetState([0, 1]), step: (m) => m.step(0),
  },
};

Disposed('each architecture\'s own methods (forward, predict, generate, stream, beam search, step) name themselves in a TypeError', async () => {
  for (const [kind, calls] of Object.entries(own)) {
    const m: any = await kinds[kind as keyof typeof kinds]();
    for (const call of Object.values(calls)) {
      const r = call(m);                                   // works before dispose (a stream: its first token)
      if (r && typeof (r as Iterator<unknown>).next === 'function') (r as Iterator<unknown>).next();
    }
    m.dispose();
    for (const [method, call] of Object.entries(calls)) {
      throwsWith(() => call(m), TypeError, new RegExp(`^${method}: this model was disposed; its memory has been returned$`));
    }
  }
});

Disposed('a stream made before dispose() ends with a TypeError at its next token', async () => {
  const m: any = await createModel({ architecture: 'one-to-many', n_y: 5, n_a: 4, startToken: 0, seed: 1 });
  const tokens = m.stream({ maxLength: 10, stop: null });
  tokens.next();
  m.dispose();
  throwsWith(() => tokens.next(), TypeError, /disposed.*its memory has been returned/);
});

Disposed('forward, through the memory guard underneath, is a TypeError too', async () => {
  const m = await createRNN({ n_x: 5, n_a: 4, n_y: 5, input: 'tokens', seed: 1 });
  m.dispose();
  throwsWith(() => m.forward({ x: [[0, 1, 2]] }), TypeError, /^forward: this model was disposed; its memory has been returned$/);
});

Disposed.run();
