// loadKerasModel with an Embedding: models built and saved with tfjs-layers — an Embedding in
// front of SimpleRNN, LSTM and GRU, stacked, bidirectional, every step or the last state —
// load as token models with an embedding table and predict what tfjs predicts within 1e-5 on
// random token ids, then fine-tune (a frozen table stays as it was); what does not map
// (mask_zero, regularizers, an Embedding that is not first) is refused, naming the layer and
// the setting.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadKerasModel, Random } from '../dist/index.js';
import { closeToKeras, predict, randomizeWeights, ready, roundTrip as checkKeras, save, saved, tfl } from './_keras.js';
import { checkSame, rejectsWith } from './_utils.js';

const V = 9, E = 4, T = 6, B = 4;
const sig = { recurrentActivation: 'sigmoid', recurrentInitializer: 'glorotUniform' } as const;
const embedding = (options: Partial<Parameters<typeof tfl.layers.embedding>[0]> = {}) =>
  tfl.layers.embedding({ inputDim: V, outputDim: E, inputShape: [null], ...options });

/** B sequences of T random token ids in [lo, V). */
function tokens(seed: number, lo = 0, steps = T): number[][] {
  const rng = new Random(seed);
  return Array.from({ length: B }, () => Array.from({ length: steps }, () => lo + rng.int(V - lo)));
}

/** Load a model from tfjs-layers, check its table is the Embedding's, and that it predicts the
 *  same on random token ids. */
const roundTrip = (label: string, build: () => tfl.LayersModel, expect: Record<string, unknown>) => checkKeras(label, build, expect, (seed) => tokens(seed), {}, (model, keras) => {
  const layer = keras.layers.find((l) => l.getClassName() === 'Embedding')!;
  checkSame('embedding.weight', model.getParam('embedding.weight'), layer.getWeights()[0].dataSync() as Float32Array);
});

const table = (frozen = false) => ({ size: E, paddingIdx: null, frozen });

const Predict = suite('Keras models with an Embedding predict the same in rnn-wasm');
Predict.before(ready);

Predict('Embedding → SimpleRNN (tanh) → TimeDistributed(Dense softmax): many-to-many', () => roundTrip('emb-rnn', () => tfl.sequential({
  layers: [
    embedding(),
    tfl.layers.simpleRNN({ units: 5, returnSequences: true, recurrentInitializer: 'glorotUniform' }),
    tfl.layers.timeDistributed({ layer: tfl.layers.dense({ units: 3, activation: 'softmax' }) }),
  ],
}), { architecture: 'many-to-many', cell: 'rnn', input: 'tokens', n_x: V, embedding: table(), n_y: 3 }));

Predict('Embedding → two stacked LSTM → Dense sigmoid: many-to-one', () => roundTrip('emb-lstm-2', () => tfl.sequential({
  layers: [embedding(), tfl.layers.lstm({ units: 3, returnSequences: true, ...sig }), tfl.layers.lstm({ units: 3, ...sig }), tfl.layers.dense({ units: 2, activation: 'sigmoid' })],
}), { architecture: 'many-to-one', cell: 'lstm', layers: 2, output: 'sigmoid' }));

Predict('Embedding → Bidirectional GRU (reset_after false) on every step → Dense linear, and stacked', async () => {
  await roundTrip('emb-gru-bi', () => tfl.sequential({
    layers: [embedding(), tfl.layers.bidirectional({ layer: tfl.layers.gru({ units: 3, returnSequences: true, ...sig }) as tfl.RNN }), tfl.layers.dense({ units: 4 })],
  }), { architecture: 'many-to-many', cell: 'gru', bidirectional: true, resetAfter: false, output: 'linear' });
  await roundTrip('emb-gru-bi-2', () => tfl.sequential({
    layers: [
      embedding(),
      tfl.layers.bidirectional({ layer: tfl.layers.gru({ units: 2, returnSequences: true, ...sig }) as tfl.RNN }),
      tfl.layers.bidirectional({ layer: tfl.layers.gru({ units: 2, ...sig }) as tfl.RNN }),
      tfl.layers.dense({ units: 3, activation: 'softmax' }),
    ],
  }), { architecture: 'many-to-one', bidirectional: true, layers: 2 });
});

Predict('a frozen Embedding (trainable: false) → Bidirectional LSTM → Dense softmax: a frozen table', () => roundTrip('emb-frozen', () => tfl.sequential({
  layers: [embedding({ trainable: false }), tfl.layers.bidirectional({ layer: tfl.layers.lstm({ units: 3, ...sig }) as tfl.RNN }), tfl.layers.dense({ units: 3, activation: 'softmax' })],
}), { architecture: 'many-to-one', embedding: table(true) }));

Predict('Embedding → Dropout → GRU → Dropout → Dense: the Dropout on the embedding is off, the one before the output layer is outputDropout', () => roundTrip('emb-drop', () => tfl.sequential({
  layers: [embedding(), tfl.layers.dropout({ rate: 0.2 }), tfl.layers.gru({ units: 4, returnSequences: true, ...sig }), tfl.layers.dropout({ rate: 0.3 }), tfl.layers.dense({ units: V, activation: 'softmax' })],
}), { architecture: 'many-to-many', dropout: 0, outputDropout: 0.3 }));

Predict('a functional model: Input (int32 ids) → Embedding → SimpleRNN (relu) → Dense', () => roundTrip('emb-functional', () => {
  const x = tfl.input({ shape: [null], dtype: 'int32' });
  const e = embedding({ inputShape: undefined }).apply(x) as tfl.SymbolicTensor;
  const h = tfl.layers.simpleRNN({ units: 3, activation: 'relu', recurrentInitializer: 'glorotUniform' }).apply(e) as tfl.SymbolicTensor;
  return tfl.model({ inputs: x, outputs: tfl.layers.dense({ units: 2 }).apply(h) as tfl.SymbolicTensor });
}, { architecture: 'many-to-one', activation: 'relu', input: 'tokens' }));

Predict('Embedding with an input_length: sequences of that length predict the same, and others load too', () => roundTrip('emb-length', () => tfl.sequential({
  layers: [tfl.layers.embedding({ inputDim: V, outputDim: E, inputLength: T }), tfl.layers.lstm({ units: 3, returnSequences: true, ...sig }), tfl.layers.dense({ units: 2 })],
}), { architecture: 'many-to-many' }));

const Train = suite('Keras models with an Embedding fine-tune');
Train.before(ready);

/** The next id of a cycle, at every step. */
const nextIds = (x: number[][]) => x.map((s) => s.map((id) => (id + 1) % V));

Train('the loss falls, the table trains, and a frozen table stays exactly as loaded', async () => {
  for (const frozen of [false, true]) {
    const keras = tfl.sequential({ layers: [embedding({ trainable: !frozen }), tfl.layers.lstm({ units: 8, returnSequences: true, ...sig }), tfl.layers.dense({ units: V, activation: 'softmax' })] });
    randomizeWeights(keras, 7);
    const saved = await save(keras, 1);
    keras.dispose();
    const model = await loadKerasModel(saved.json, saved.files, { seed: 3 });
    const x = tokens(11, 0, 8), batch = { x, y: nextIds(x) } as any;
    const table = model.getParam('embedding.weight');
    const before = (model as any).evaluate(batch).loss;
    for (let i = 0; i < 40; i++) (model as any).trainStep(batch, { optimizer: 'adam', learningRate: 0.02 });
    const after = (model as any).evaluate(batch).loss;
    assert.ok(after < 0.7 * before, `${frozen ? 'frozen' : 'trained'} table: loss ${before} → ${after}`);
    const moved = model.getParam('embedding.weight').some((v, i) => v !== table[i]);
    assert.is(moved, !frozen, frozen ? 'the frozen table stays' : 'the table trains');
    model.dispose();
  }
});

const Refused = suite('Keras Embedding settings rnn-wasm does not have are refused, naming the layer and the setting');
Refused.before(ready);

Refused('mask_zero: Keras skips every step with id 0, which rnn-wasm does not', async () => {
  const s = await saved(() => [embedding({ maskZero: true }), tfl.layers.lstm({ units: 2, ...sig })]);
  await rejectsWith(loadKerasModel(s.json, s.files), TypeError,
    /^loadKerasModel: Embedding layer 'embedding_Embedding\d+' has mask_zero: true; Keras then skips every step whose id is 0, wherever it is/);
});

Refused('mask_zero set to false by hand, as the message says: unpadded sequences give what Keras gives the padded ones with the mask', async () => {
  for (const bidirectional of [false, true]) {
    const rnn = () => tfl.layers.gru({ units: 3, returnSequences: true, ...sig }) as tfl.RNN;
    const keras = tfl.sequential({ layers: [embedding({ maskZero: true }), bidirectional ? tfl.layers.bidirectional({ layer: rnn() }) : rnn(), tfl.layers.dense({ units: 2 })] });
    randomizeWeights(keras, 5);
    const lengths = [6, 3, 1, 4];
    const x = tokens(4, 1).map((s, b) => s.slice(0, lengths[b]));                    // ids 1 … V−1
    const padded = x.map((s) => [...s, ...new Array(T - s.length).fill(0)]);
    const want = predict(keras, padded);
    const s = await save(keras, 1);
    keras.dispose();
    const json = JSON.parse(JSON.stringify(s.json).replace('"mask_zero":true', '"mask_zero":false'));
    const model = await loadKerasModel(json, s.files);
    const got = (model as any).forward({ x }).yhat as Float32Array;     // padded to T with zeros
    const real: number[] = [];
    lengths.forEach((L, b) => { for (let t = 0; t < L; t++) real.push(2 * (b * T + t), 2 * (b * T + t) + 1); });
    closeToKeras(bidirectional ? 'bidirectional' : 'forward', real.map((i) => got[i]), real.map((i) => want[i]));
    model.dispose();
  }
});

Refused('regularizers and constraints are training settings: refused, or left out with trainingSettings: ignore', async () => {
  const s = await saved(() => [embedding({ embeddingsRegularizer: tfl.regularizers.l2({ l2: 0.01 }) }), tfl.layers.gru({ units: 2, ...sig })]);
  await rejectsWith(loadKerasModel(s.json, s.files), TypeError,
    /loadKerasModel: layer 'embedding_Embedding\d+' \(Embedding\) has a embeddings_regularizer, which acts in training .*trainingSettings: 'ignore'/);
  (await loadKerasModel(s.json, s.files, { trainingSettings: 'ignore' })).dispose();
  const c = await saved(() => [embedding({ embeddingsConstraint: 'nonNeg' }), tfl.layers.gru({ units: 2, ...sig })]);
  await rejectsWith(loadKerasModel(c.json, c.files), TypeError, /\(Embedding\) has a embeddings_constraint/);
});

Refused('an Embedding that is not first, a second one, a bad size, sparse, LoRA, and a table of the wrong shape', async () => {
  const s = await saved(() => [embedding(), tfl.layers.lstm({ units: 2, ...sig })]);
  const layers = (json: any) => json.modelTopology.config.layers;
  const edited = (change: (json: any) => void) => { const json = JSON.parse(JSON.stringify(s.json)); change(json); return json; };
  const cases: [any, RegExp][] = [
    [edited((j) => layers(j).push(JSON.parse(JSON.stringify(layers(j)[0])))), /Embedding layer 'embedding_Embedding\d+' does not come first/],
    [edited((j) => { layers(j)[0].config.input_dim = 0; }), /Embedding layer '.*' has input_dim 0; it must be a positive integer/],
    [edited((j) => { layers(j)[0].config.output_dim = 'four'; }), /has output_dim "four"/],
    [edited((j) => { layers(j)[0].config.sparse = true; }), /has sparse: true/],
    [edited((j) => { layers(j)[0].config.lora_rank = 4; }), /has lora_rank 4; rnn-wasm reads a plain table/],
    [edited((j) => { layers(j)[0].config.mask_zero = 'yes'; }), /has mask_zero "yes"; it must be true or false/],
    [edited((j) => { layers(j)[0].config.batch_input_shape = [null, null, E]; }), /takes inputs of shape \[null,null,4\]|takes inputs of shape .*an Embedding reads token ids of shape \(batch, time\)/],
  ];
  for (const [json, pattern] of cases) await rejectsWith(loadKerasModel(json, s.files), TypeError, pattern);
  const wide = edited((j) => { layers(j)[0].config.input_dim = V + 1; });
  await rejectsWith(loadKerasModel(wide, s.files), RangeError, /weight 'embedding_Embedding\d+\/embeddings' has shape \[9, 4\], expected \[10, 4\]/);
});

Predict.run();
Train.run();
Refused.run();
