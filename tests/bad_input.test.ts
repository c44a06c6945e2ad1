// A matrix of bad arguments over the public API: for every function and option, values of the
// wrong type, NaN, ±Infinity, negative, non-integer, huge, empty, and unknown keys. Each call
// throws a TypeError (wrong type, unknown key or choice) or a RangeError (a number, size or
// length out of range) whose message starts with the function called and names the argument;
// the model's weights never change, and it still works afterwards.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CharTokenizer, createModel, createRNN, createWorkerPool, loadModel, loadRNN, tokenizerFromJSON, WordTokenizer } from '../dist/index.js';
import { saveCheckpoint, saveModel } from '../dist/node.js';

type Kind = 'type' | 'value';
/** A bad value and the error it must give: TypeError for a wrong type, RangeError otherwise. */
type Bad = [value: unknown, kind: Kind];

const WRONG_TYPES: Bad[] = [['3', 'type'], [true, 'type'], [{}, 'type'], [[1], 'type']];
const NON_FINITE: Bad[] = [[NaN, 'value'], [Infinity, 'value'], [-Infinity, 'value']];
/** A whole number ≥ 1: wrong types, non-finite, 0, negative, non-integer (and huge, when bounded). */
const count = (huge = false): Bad[] => [...WRONG_TYPES, ...NON_FINITE, [0, 'value'], [-1, 'value'], [2.5, 'value'], ...(huge ? [[1e12, 'value'] as Bad] : [])];
/** A finite number ≥ 0 (or in a range): wrong types, non-finite, negative. */
const amount = (extra: Bad[] = []): Bad[] => [...WRONG_TYPES, ...NON_FINITE, [-1, 'value'], ...extra];
/** One of a set of names. */
const choice: Bad[] = [['nope', 'type'], ['', 'type'], [1, 'type'], [{}, 'type']];
const flag: Bad[] = [['true', 'type'], [1, 'type'], [{}, 'type']];
/** An options object: not an object, or with an unknown key. */
const options = (typo: object): Bad[] => [[5, 'type'], ['x', 'type'], [null, 'type'], [typo, 'type']];

/** Call `call(value)` for every bad value; each must throw as `kind` says, naming `where` and `name`. */
async function each(where: string, name: string, bad: Bad[], call: (v: any) => unknown): Promise<void> {
  for (const [value, kind] of bad) {
    const label = `${where}(${name} = ${typeof value === 'number' ? value : JSON.stringify(value)})`;
    let error: unknown;
    try {
      await call(value);
    } catch (e) {
      error = e;
    }
    assert.ok(error !== undefined, `${label} was accepted`);
    const type = kind === 'type' ? TypeError : RangeError;
    assert.instance(error, type, `${label}: expected a ${type.name}, got ${(error as Error).constructor.name}: ${(error as Error).message}`);
    const message = (error as Error).message;
    assert.ok(message.startsWith(`${where}: `), `${label}: the message must start with "${where}: ": ${message}`);
    assert.ok(message.includes(name), `${label}: the message must name ${name}: ${message}`);
  }
}

/** Run the matrix on a model: its weights never change, and it still computes and trains. */
async function unchanged(model: any, probe: () => unknown, matrix: () => Promise<void>): Promise<void> {
  const weights = model.getWeights();
  const before = JSON.stringify(probe());
  await matrix();
  assert.equal(model.getWeights(), weights, 'the weights changed');
  assert.is(JSON.stringify(probe()), before, 'the model computes as before');
}

// ---

const Factories = suite('factories and loaders');

Factories('createRNN: every config field', async () => {
  const base = { n_x: 3, n_a: 4, n_y: 2 };
  const field = (name: string, bad: Bad[]) => each('createRNN', name, bad, (v) => createRNN({ ...base, [name]: v } as any));
  for (const name of ['n_x', 'n_a', 'n_y', 'layers']) await field(name, count(true));
  for (const name of ['cell', 'input', 'output', 'activation', 'reduction', 'backend']) await field(name, choice);
  for (const name of ['bidirectional', 'resetAfter']) await field(name, flag);
  for (const name of ['dropout', 'outputDropout']) await field(name, amount([[1, 'value'], [1e9, 'value']]));
  await field('seed', [...WRONG_TYPES, ...NON_FINITE, [-1, 'value'], [0.5, 'value']]);
  await each('createRNN', 'config', [[null, 'type'], [5, 'type'], ['x', 'type']], (v) => createRNN(v));
  await each('createRNN', 'layerz', [[{ ...base, layerz: 2 }, 'type']], (v) => createRNN(v));
});

Factories('createModel: the architecture and its own fields', async () => {
  const chars = CharTokenizer.fromText('ab');
  const configs: Record<string, object> = {
    'one-to-one': { architecture: 'one-to-one', n_x: 3, n_a: 4, n_y: 2 },
    'one-to-many': { architecture: 'one-to-many', n_y: 3, n_a: 4 },
    'many-to-one': { architecture: 'many-to-one', n_x: 3, n_a: 4, n_y: 2 },
    'many-to-many': { architecture: 'many-to-many', n_x: 3, n_a: 4, n_y: 2 },
    'encoder-decoder': { architecture: 'encoder-decoder', n_x: 3, n_y: 3, n_a: 4 },
  };
  await each('createModel', 'architecture', choice, (v) => createModel({ ...configs['one-to-one'], architecture: v } as any));
  for (const [arch, base] of Object.entries(configs)) {
    for (const name of ['n_a', 'layers', ...('n_y' in base ? ['n_y'] : [])]) await each('createModel', name, count(true), (v) => createModel({ ...base, [name]: v } as any));
    await each('createModel', 'cell', choice, (v) => createModel({ ...base, cell: v } as any));
    await each('createModel', 'reduction', choice, (v) => createModel({ ...base, reduction: v } as any));
    await each('createModel', 'dropout', amount([[2, 'value']]), (v) => createModel({ ...base, layers: 2, dropout: v } as any));
    await each('createModel', 'tokenizers', [[5, 'type'], ['x', 'type']], (v) => createModel({ ...base, tokenizers: v } as any));
    await each('createModel', `n_ax`, [[{ ...base, n_ax: 4 }, 'type']], (v) => createModel(v));
    if (arch === 'one-to-many' || arch === 'encoder-decoder') {
      await each('createModel', 'stopToken', [...WRONG_TYPES, [-1, 'value'], [3, 'value'], [1.5, 'type'], [NaN, 'type']], (v) => createModel({ ...base, stopToken: v } as any));
    }
  }
  const ed = configs['encoder-decoder'];
  await each('createModel', 'bridge', choice, (v) => createModel({ ...ed, bridge: v } as any));
  await each('createModel', 'attention', choice, (v) => createModel({ ...ed, attention: v } as any));
  await each('createModel', 'encoder', [[5, 'type'], ['x', 'type'], [{ n_a: 4, layerz: 1 }, 'type']], (v) => createModel({ ...ed, encoder: v } as any));
  await each('createModel', 'decoder.n_a', count(true), (v) => createModel({ ...ed, decoder: { n_a: v } } as any));
  await each('createModel', 'tokenizers.x', [[{}, 'type'], ['ab', 'type'], [chars, 'value']], (v) => createModel({ ...ed, input: 'tokens', tokenizers: { x: v } } as any));
});

Factories('loadRNN, loadModel, setTrainingState: bytes and options', async () => {
  const m = await createRNN({ n_x: 3, n_a: 4, n_y: 2, seed: 1 });
  const file = m.save();
  const bytes: Bad[] = [['abc', 'type'], [[1, 2, 3], 'type'], [null, 'type'], [new Float32Array(4), 'type']];
  await each('loadRNN', 'bytes', bytes, (v) => loadRNN(v));
  await each('loadModel', 'bytes', bytes, (v) => loadModel(v));
  await each('loadRNN', 'options', options({ strct: false }), (v) => loadRNN(file, v));
  await each('loadRNN', 'strict', flag, (v) => loadRNN(file, { strict: v } as any));
  await each('loadRNN', 'rnnPrefix', [[1, 'type'], [{}, 'type']], (v) => loadRNN(file, { rnnPrefix: v } as any));
  await each('loadRNN', 'backend', choice, (v) => loadRNN(file, { backend: v } as any));
  await each('loadRNN', 'options.config', [[5, 'type'], [{ n_x: 3 }, 'type'], [{ n_x: 3, n_a: -4, n_y: 2 }, 'value']], (v) => loadRNN(file, { config: v } as any));
  await each('loadModel', 'options', options({ backnd: 'simd' }), (v) => loadModel(file, v));
  await each('loadModel', 'architecture', choice, (v) => loadModel(file, { architecture: v } as any));
  await unchanged(m, () => m.forward({ x: [[[1, 2, 3]]] }).yhat, async () => {
    await each('setTrainingState', 'bytes', bytes, (v) => m.setTrainingState(v));
    await each('loadWeights', 'bytes', bytes, (v) => m.loadWeights(v));
    await each('loadWeights', 'options', options({ headprefix: 'fc.' }), (v) => m.loadWeights(file, v));
    await each('loadWeights', 'headPrefix', [[1, 'type'], [[], 'type']], (v) => m.loadWeights(file, { headPrefix: v } as any));
  });
  m.dispose();
});

Factories('tokenizers: build, encode and decode options, and JSON', async () => {
  const chars = CharTokenizer.fromText('abc');
  await each('CharTokenizer.fromText', 'options', options({ mincount: 2 }), (v) => CharTokenizer.fromText('abc', v));
  await each('CharTokenizer.fromText', 'minCount', count(), (v) => CharTokenizer.fromText('abc', { minCount: v }));
  await each('WordTokenizer.fromTokens', 'options', options({ maxtokens: 2 }), (v) => WordTokenizer.fromTokens(['a', 'b'], v));
  await each('CharTokenizer.encode', 'options', options({ eoss: true }), (v) => chars.encode('ab', v));
  await each('CharTokenizer.decode', 'options', options({ skipspecial: false }), (v) => chars.decode([1, 2], v));
  await each('tokenizerFromJSON', 'json', [[5, 'type'], [{ ...chars.toJSON(), tokenz: [] }, 'type']], (v) => tokenizerFromJSON(v));
});

Factories('createWorkerPool: size, at most 64, refused before a thread starts', async () => {
  await each('createWorkerPool', 'options', [[5, 'type'], [null, 'type'], [{ size: 1, sise: 2 }, 'type']], (v) => createWorkerPool(v));
  await each('createWorkerPool', 'size', [...count(true), [65, 'value'], [1000, 'value']], (v) => createWorkerPool({ size: v }));
});

Factories('rnn-wasm/node: the model and the path', async () => {
  const m = await createRNN({ n_x: 3, n_a: 4, n_y: 2, seed: 1 });
  for (const [fn, where] of [[saveModel, 'saveModel'], [saveCheckpoint, 'saveCheckpoint']] as const) {
    await each(where, 'model', [[null, 'type'], [{}, 'type'], ['m', 'type']], (v) => fn(v, '/tmp/never-written.safetensors'));
    await each(where, 'path', [['', 'type'], [5, 'type'], [null, 'type']], (v) => fn(m, v));
  }
  m.dispose();
});

Factories.run();

// ---

const Calls = suite('model calls');

Calls('forward, computeGradients, predict, parameters', async () => {
  const m = await createRNN({ n_x: 3, n_a: 4, n_y: 2, output: 'linear', seed: 1 });
  const x = [[[0.1, 0.2, 0.3], [0.3, 0.2, 0.1]]], y = [[[1, 0], [0, 1]]];
  await unchanged(m, () => m.forward({ x }).yhat, async () => {
    await each('forward', 'batch', [[null, 'type'], [5, 'type']], (v) => m.forward(v));
    await each('forward', 'x', [[[], 'value'], [[[]], 'value'], ['abc', 'type'], [[5], 'type'], [[[[NaN, 0, 0]]], 'value'], [[[[Infinity, 0, 0]]], 'value'], [[[[0, 0]]], 'value']], (v) => m.forward({ x: v }));
    await each('computeGradients', 'y', [[[[[1, 0]]], 'value'], [[[[NaN, 0], [0, 1]]], 'value'], [5, 'type'], [[], 'value']], (v) => m.computeGradients({ x, y: v }));
    await each('forward', 'a0', [[[1, 2], 'value'], [new Array(4).fill(NaN), 'value'], [5, 'type']], (v) => m.forward({ x, a0: v }));
    await each('forward', 'c0', [[new Array(4).fill(0), 'type']], (v) => m.forward({ x, c0: v }));
    await each('setParam', 'W_aa', [[new Float32Array(3), 'value'], [new Array(16).fill(NaN), 'value'], [new Array(16).fill(-Infinity), 'value'], ['abc', 'type'], [null, 'type']], (v) => m.setParam('W_aa', v));
    await each('setParam', 'W_zz', [[new Float32Array(16), 'value']], (v) => m.setParam('W_zz', v));
    await each('getParam', 'nope', [[0, 'value']], () => m.getParam('nope'));
    await each('setWeights', 'values', [[new Float32Array(3), 'value'], [new Array(m.numParams).fill(NaN), 'value'], [{}, 'type']], (v) => m.setWeights(v));
  });
  const one = await createModel({ architecture: 'one-to-one', n_x: 3, n_a: 4, n_y: 2, input: 'tokens', seed: 1 });
  await unchanged(one, () => one.predict([0, 1, 2]), async () => {
    await each('predict', 'x[0]', [[-1, 'value'], [3, 'value'], [1.5, 'type'], [NaN, 'type'], ['a', 'type']], (v) => one.predict([v]));
    // (−1 skips the example: the ignoreIndex's default)
    await each('forward', 'y[0]', [[-2, 'value'], [2, 'value'], [0.5, 'type'], [[0], 'type']], (v) => one.forward({ x: [0], y: [v] }));
  });
  m.dispose(); one.dispose();
});

Calls('trainStep, fit, evaluate: every option', async () => {
  const m = await createRNN({ n_x: 4, n_a: 4, n_y: 4, input: 'tokens', seed: 1 });
  const data = { x: [[0, 1, 2], [3, 2, 1]], y: [[1, 2, 3], [2, 1, 0]] };
  await unchanged(m, () => m.forward(data).yhat, async () => {
    const step = (name: string, bad: Bad[], wrap: (v: unknown) => unknown = (v) => ({ [name]: v })) => each('trainStep', name, bad, (v) => m.trainStep(data, wrap(v) as any));
    await step('options', options({ learningrate: 0.1 }), (v) => v);
    await step('learningRate', amount());
    await step('clipNorm', amount());
    await step('clipValue', amount());
    await step('tbptt', count());
    await step('onNonFinite', choice);
    await step('optimizer', [[5, 'type'], ['lbfgs', 'type'], ['adma', 'type'], [[], 'type'], [{ type: 'adam', beta: 0.9 }, 'type'], [{ type: 'sgd', momentum: -1 }, 'value'],
      [{ type: 'adam', beta1: NaN }, 'value'], [{ type: 'sgd', momentum: 0.9, nesterov: 'yes' }, 'type'], [{ type: 'sgd', momentum: 0.9, nesterov: 1 }, 'type']]);
    await step('schedule', [[5, 'type'], ['warm', 'type'], [{ type: 'step', stepSize: 0 }, 'value'], [{ type: 'cosine', tMax: 10, etamin: 0 }, 'type'], [{ type: 'exponential', gamma: 2 }, 'value']]);
    const fit = (name: string, bad: Bad[], wrap: (v: unknown) => unknown = (v) => ({ [name]: v })) => each('fit', name, bad, (v) => m.fit(data, wrap(v) as any));
    await fit('options', options({ epoch: 2 }), (v) => v);
    await fit('epochs', count());
    await fit('batchSize', count());
    await fit('validationBatchSize', count());
    await fit('yieldEveryMs', amount());
    await fit('validationSplit', amount([[1.5, 'value'], [1, 'value']]));
    await fit('shuffle', flag);
    await fit('resume', flag);
    await fit('metrics', [[5, 'type'], ['accuracy', 'type'], [['acc'], 'type']]);
    await fit('onProgress', [[5, 'type'], ['f', 'type']]);
    await fit('onEpochEnd', [[{}, 'type']]);
    await fit('signal', [[5, 'type'], ['abort', 'type'], [{}, 'type'], [{ aborted: 1 }, 'type'], [[], 'type'], [() => true, 'type']]);
    await fit('workers', [['2', 'type'], [{}, 'type'], [-1, 'value'], [1.5, 'value'], [NaN, 'value'], [65, 'value'], [1000, 'value'], [1e12, 'value']]);
    await fit('earlyStopping', [[5, 'type'], [{ patience: 0 }, 'value'], [{ patience: 2, monitor: 'val_loss' }, 'value'], [{ patience: 2, mindelta: 0 }, 'type']]);
    await fit('validationData', [[5, 'type'], [{ x: [[0]] }, 'type'], [{ x: [], y: [] }, 'value']]);
    await each('fit', 'data', [[null, 'type'], [{ x: data.x }, 'type'], [{ x: [], y: [] }, 'value'], [{ x: data.x, y: data.y.slice(1) }, 'value']], (v) => m.fit(v));
    await each('evaluate', 'options', options({ batchsize: 2 }), (v) => m.evaluate(data, v));
    await each('evaluate', 'batchSize', count(), (v) => m.evaluate(data, { batchSize: v }));
    await each('evaluate', 'data', [[null, 'type'], [{ x: [], y: [] }, 'value']], (v) => m.evaluate(v));
  });
  m.trainStep(data);                                   // and it trains
  m.dispose();
});

Calls('sample, generate, stream, generateMany, generateBatch, beamSearch, step, resetState', async () => {
  const V = 4;
  const rnn = await createRNN({ n_x: V, n_a: 4, n_y: V, input: 'tokens', seed: 1 });
  await unchanged(rnn, () => rnn.sample({ length: 4, temperature: 0 }), async () => {
    await each('sample', 'options', options({ lenght: 3 }), (v) => rnn.sample(v));
    await each('sample', 'length', [...WRONG_TYPES, ...NON_FINITE, [-1, 'value'], [2.5, 'value'], [1e12, 'value']], (v) => rnn.sample({ length: v }));
    await each('sample', 'temperature', amount(), (v) => rnn.sample({ length: 2, temperature: v }));
    await each('sample', 'topK', count(), (v) => rnn.sample({ length: 2, topK: v }));
    await each('sample', 'topP', amount([[0, 'value'], [1.5, 'value']]), (v) => rnn.sample({ length: 2, topP: v }));
    await each('sample', 'seed', [...WRONG_TYPES, [-1, 'value'], [0.5, 'value']], (v) => rnn.sample({ length: 2, seed: v }));
    await each('sample', 'prime', [[[], 'value'], [[V], 'value'], [[-1], 'value'], [5, 'type']], (v) => rnn.sample({ length: 2, prime: v }));
  });
  const gen = await createModel({ architecture: 'one-to-many', n_y: V, n_a: 4, startToken: 0, seed: 1 });
  await unchanged(gen, () => gen.generate({ maxLength: 4 }), async () => {
    const sampling = async (where: string, call: (o: object) => unknown, base: object) => {
      await each(where, 'options', options({ maxlength: 3 }), (v) => call(v));
      await each(where, 'maxLength', [...count(), ...(where === 'stream' ? [] : [[1e12, 'value'] as Bad])], (v) => call({ ...base, maxLength: v }));
      await each(where, 'strategy', choice, (v) => call({ ...base, strategy: v }));
      await each(where, 'temperature', amount([[0, 'value']]), (v) => call({ ...base, strategy: 'sample', temperature: v }));
      await each(where, 'topK', count(), (v) => call({ ...base, strategy: 'sample', topK: v }));
      await each(where, 'topP', amount([[0, 'value'], [1.5, 'value']]), (v) => call({ ...base, strategy: 'sample', topP: v }));
      await each(where, 'stop', [[-1, 'value'], [V, 'value'], [0.5, 'type'], ['x', 'type']], (v) => call({ ...base, stop: v }));
    };
    await sampling('generate', (o) => gen.generate(o as any), { maxLength: 3 });
    await sampling('stream', (o) => gen.stream(o as any).next(), { maxLength: 3 });
    await sampling('generateMany', (o) => gen.generateMany(2, o as any), { maxLength: 3 });
    await each('generateMany', 'count', count(true), (v) => gen.generateMany(v, { maxLength: 2 }));
    await each('generate', 'prefix', [[[V], 'value'], [5, 'type']], (v) => gen.generate({ maxLength: 2, prefix: v }));
    await each('generate', 'x', [[V, 'value'], [-1, 'value'], ['a', 'type']], (v) => gen.generate({ maxLength: 2, x: v }));
    await each('generate', 'a0', [[[1], 'value'], [new Array(4).fill(NaN), 'type']], (v) => gen.generate({ maxLength: 2, a0: v }));
    await each('beamSearch', 'options', options({ beamwidth: 2 }), (v) => gen.beamSearch(v));
    await each('beamSearch', 'beamWidth', count(true), (v) => gen.beamSearch({ beamWidth: v, maxLength: 3 }));
    await each('beamSearch', 'maxLength', count(true), (v) => gen.beamSearch({ beamWidth: 2, maxLength: v }));
    await each('beamSearch', 'lengthPenalty', amount(), (v) => gen.beamSearch({ beamWidth: 2, maxLength: 3, lengthPenalty: v }));
    await each('step', 'x', [[V, 'value'], [-1, 'value'], [0.5, 'type'], ['a', 'type']], (v) => gen.step(v));
    await each('resetState', 'state', [[5, 'type'], [{ a_0: [0] }, 'type']], (v) => gen.resetState(v));
    await each('resetState', 'a0', [[[1, 2], 'value']], (v) => gen.resetState({ a0: v }));
  });
  const ed = await createModel({ architecture: 'encoder-decoder', n_x: V, n_y: V, n_a: 4, input: 'tokens', seed: 1 });
  await unchanged(ed, () => ed.generate([1, 2], { maxLength: 3 }), async () => {
    await each('generate', 'x', [[[], 'value'], [[V], 'value'], ['ab', 'type'], [[0.5], 'type']], (v) => ed.generate(v, { maxLength: 2 }));
    await each('generate', 'maxLength', count(true), (v) => ed.generate([1], { maxLength: v }));
    await each('generateBatch', 'x', [[[], 'value'], [[[V]], 'value'], [5, 'type']], (v) => ed.generateBatch(v, { maxLength: 2 }));
    await each('generateBatch', 'maxLength', count(true), (v) => ed.generateBatch([[1]], { maxLength: v }));
    await each('beamSearch', 'beamWidth', count(true), (v) => ed.beamSearch([1], { beamWidth: v, maxLength: 2 }));
    await each('resetState', 'source', [[[V], 'value'], [[], 'value'], [5, 'type']], (v) => ed.resetState(v));
    await each('step', 'resetState', [[0, 'type']], (v) => ed.step(v));
  });
  for (const m of [rnn, gen, ed]) m.dispose();
});

Calls.run();
