// Model files: save() / loadRNN() round trips, PyTorch state_dict files, and bad files that
// are refused with a clear error while the target model stays as it was.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createModel, createRNN, encodeSafetensors, loadModel, loadRNN, Random } from '../dist/index.js';
import { checkSame, randomBatch, rejectsWith, throwsWith } from './_utils.js';

const fixture = (cell: string, name: string) =>
  JSON.parse(readFileSync(join(__dirname, 'fixtures', `torch_${cell}.json`), 'utf8')).cases.find((c: any) => c.name === name);

function allclose(label: string, a: ArrayLike<number>, e: ArrayLike<number>, atol = 1e-5, rtol = 1e-4): void {
  assert.is(a.length, e.length, `${label}: length`);
  for (let i = 0; i < e.length; i++) {
    if (!(Math.abs(a[i] - e[i]) <= atol + rtol * Math.abs(e[i]))) assert.unreachable(`${label}[${i}]: ${a[i]} vs ${e[i]}`);
  }
}

/** A safetensors file with a hand-written header, for files our writer would never make. */
function craft(header: object, data: Uint8Array): Uint8Array {
  const text = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

const IO = suite('save and load');

IO('save → loadRNN gives an identical model (weights bit for bit, config, outputs)', async () => {
  const spec = { cell: 'gru', n_x: 5, n_a: 7, n_y: 3, layers: 2, bidirectional: true, resetAfter: false, input: 'tokens', seed: 3 } as const;
  const model = await createRNN(spec);
  const batch = randomBatch(new Random(1), { T: 6, B: 2, n_x: 5, n_y: 3, input: 'tokens', output: 'softmax' });
  for (let i = 0; i < 3; i++) model.trainStep(batch, { learningRate: 0.05 });
  const bytes = model.save();
  checkSame('save is deterministic', bytes, model.save());
  const copy = await loadRNN(bytes);
  assert.equal(copy.toJSON(), model.toJSON());
  checkSame('weights', copy.getWeights(), model.getWeights());
  checkSame('yhat', copy.forward(batch).yhat, model.forward(batch).yhat);
  model.dispose(); copy.dispose();
});

IO('a PyTorch nn.LSTM state_dict (safetensors, 2 layers, bidirectional) loads given the config', async () => {
  const fx = fixture('lstm', 'lstm L=2 bi dense/linear');
  const bytes = new Uint8Array(readFileSync(join(__dirname, 'fixtures', 'torch_lstm.safetensors')));
  const c = fx.config;
  await loadRNN(bytes).then(() => assert.unreachable('needs a config'), (e) => assert.match(e.message, /carries no rnn-wasm config.*pass options.config/));
  await loadRNN(bytes, { config: c }).then(() => assert.unreachable('the file has no head'), (e) => assert.match(e.message, /no tensor "head.weight"/));
  const model = await loadRNN(bytes, { config: c, strict: false });   // the head keeps its own init
  const x = Array.from({ length: fx.B }, (_, b) => fx.x.slice(b * fx.T * c.n_x, (b + 1) * fx.T * c.n_x));
  const f = model.forward({ x, a0: fx.h0, c0: fx.c0 });
  allclose('output', f.a, fx.out);
  allclose('h_n', f.aT, fx.hT);
  allclose('c_n', f.cT!, fx.cT);
  model.dispose();
});

IO('a wrapper module state_dict (rnn.* + fc.*) loads with the prefixes found automatically', async () => {
  const fx = fixture('gru', 'gru L=2 uni dense/linear');
  const c = fx.config;
  const tensors = Object.entries(fx.params).map(([name, data]: [string, any]) => {
    const model = name.startsWith('head.') ? name.replace('head.', 'fc.') : `rnn.${name}`;
    return { name: model, data: Float32Array.from(data), shape: shapeOf(name, c) };
  });
  const model = await loadRNN(encodeSafetensors(tensors, { format: 'pt' }), { config: c });
  const x = Array.from({ length: fx.B }, (_, b) => fx.x.slice(b * fx.T * c.n_x, (b + 1) * fx.T * c.n_x));
  allclose('yhat', model.forward({ x, a0: fx.h0 }).yhat, fx.yhat);
  model.dispose();
});

function shapeOf(name: string, c: any): number[] {
  const G = { rnn: 1, lstm: 4, gru: 3 }[c.cell as 'rnn'] * c.n_a;
  const D = c.bidirectional ? 2 : 1;
  if (name === 'head.weight') return [c.n_y, D * c.n_a];
  if (name === 'head.bias') return [c.n_y];
  if (name.startsWith('bias')) return [G];
  if (name.startsWith('weight_hh')) return [G, c.n_a];
  return [G, name.includes('_l0') ? c.n_x : D * c.n_a];
}

IO.run();

// ---

const Bad = suite('bad files are refused and change nothing');

Bad('truncated, wrong dtype, wrong shape, missing or extra tensor, bad offsets, huge header, bad config', async () => {
  const model = await createRNN({ n_x: 3, n_a: 4, n_y: 2, seed: 1 });
  const good = model.save();
  const weights = model.getWeights();
  const W = (n: number) => new Uint8Array(n * 4);
  const entries = model.layout.entries;
  const header = (f: (name: string, shape: readonly number[], begin: number) => object | undefined) => {
    const h: Record<string, unknown> = {};
    let begin = 0;
    for (const e of entries) {
      const v = f(e.name, e.shape, begin);
      if (v) h[e.name] = v;
      begin += e.length * 4;
    }
    return h;
  };
  const ok = (_name: string, shape: readonly number[], begin: number) => ({ dtype: 'F32', shape, data_offsets: [begin, begin + shape.reduce((a, b) => a * b, 1) * 4] });
  const total = model.numParams;
  const cases: [string, Uint8Array, RegExp][] = [
    ['truncated', good.subarray(0, good.length - 5), /safetensors: /],
    ['shorter than 8 bytes', good.subarray(0, 5), /shorter than the 8-byte header length/],
    ['huge header', (() => { const b = good.slice(); new DataView(b.buffer).setBigUint64(0, 1n << 40n, true); return b; })(), /above the limit/],
    ['a text file', new TextEncoder().encode('It is a truth universally acknowledged'), /^loadWeights: safetensors: the header length 2333181762011690057 is above the limit of 100000000 bytes; the file is not a safetensors file \(ONNX and Keras models load with loadONNX and loadKerasModel\)$/],
    ['wrong dtype', craft(header((n, s, b) => n === 'weight_hh_l0' ? { dtype: 'F64', shape: [2, 4], data_offsets: [b, b + 64] } : ok(n, s, b)), W(total)), /F64/],
    ['shape mismatch', craft(header((n, s, b) => n === 'weight_hh_l0' ? { dtype: 'F32', shape: [2, 8], data_offsets: [b, b + 64] } : ok(n, s, b)), W(total)), /tensor "weight_hh_l0" has shape \[2, 8\], the model's weight_hh_l0 needs \[4, 4\]/],
    ['missing tensor', encodeSafetensors(entries.filter((e) => e.name !== 'bias_ih_l0').map((e) => ({ name: e.name, shape: [...e.shape], data: new Float32Array(e.length) }))), /the file has no tensor "bias_ih_l0" \(the model's bias_ih_l0, shape \[4\]\)/],
    ['an LSTM projection (proj_size)', (() => { const t = entries.map((e) => ({ name: `rnn.${e.name}`, shape: [...e.shape], data: new Float32Array(e.length) })); t.push({ name: 'rnn.weight_hr_l0', shape: [2, 4], data: new Float32Array(8) }); return encodeSafetensors(t); })(),
      /^loadWeights: tensor "rnn.weight_hr_l0" \[2, 4\] is an LSTM projection \(nn.LSTM's proj_size = 2\); rnn-wasm's LSTM has none: its hidden state is n_a wide \(save the module with proj_size = 0\)$/],
    ['extra tensor', (() => { const t = entries.map((e) => ({ name: e.name, shape: [...e.shape], data: new Float32Array(e.length) })); t.push({ name: 'extra', shape: [1], data: new Float32Array(1) }); return encodeSafetensors(t); })(), /tensors this model does not use: extra/],
    ['overlapping offsets', craft(header((n, s, b) => n === 'weight_hh_l0' ? { ...ok(n, s, b), data_offsets: [b - 8, b + 56] } : ok(n, s, b)), W(total)), /overlap|safetensors: /],
    ['offsets beyond the data', craft(header((n, s, b) => ok(n, s, b)), W(total - 1)), /safetensors: /],
    ['config that is not valid', craft({ __metadata__: { format: 'rnn-wasm', format_version: '1', config: '{"n_x":3,"n_a":-4,"n_y":2}' }, ...header(ok) }, W(total)), /n_a must be an integer ≥ 1, got -4/],
  ];
  for (const [label, bytes, pattern] of cases) {
    let message = '';
    try {
      if (label === 'config that is not valid') await loadRNN(bytes);
      else model.loadWeights(bytes);
    } catch (e) {
      message = (e as Error).message;
    }
    assert.match(message, pattern, `${label}: ${message || 'no error'}`);
    if (process.env.SHOW_MESSAGES) console.log(`${label}: ${message}`);
    checkSame(`${label}: weights unchanged`, model.getWeights(), weights);
  }
  assert.throws(() => model.loadWeights('not bytes' as any), /bytes must be a Uint8Array/);
  model.dispose();
});

Bad.run();

// ---

const Buffers = suite('the bytes of a file as an ArrayBuffer');

Buffers('loadModel, loadRNN, loadWeights and setTrainingState take an ArrayBuffer (from fetch) as they take a Uint8Array', async () => {
  const model = await createModel({ architecture: 'many-to-one', input: 'tokens', n_x: 5, n_a: 4, n_y: 2, seed: 1 });
  const file = model.save();
  const buffer = file.slice().buffer;                      // exactly the file's bytes, as fetch's arrayBuffer() gives them
  const a = await loadModel(buffer);
  checkSame('loadModel', a.getWeights(), model.getWeights());
  const rnn = await createRNN({ n_x: 5, n_a: 4, n_y: 5, input: 'tokens', seed: 1 });
  const b = await loadRNN(rnn.save().slice().buffer as any);
  checkSame('loadRNN', b.getWeights(), rnn.getWeights());
  const c = await createModel({ architecture: 'many-to-one', input: 'tokens', n_x: 5, n_a: 4, n_y: 2, seed: 2 });
  c.loadWeights(buffer);
  checkSame('loadWeights', c.getWeights(), model.getWeights());
  c.setTrainingState(model.getTrainingState().slice().buffer);
  checkSame('setTrainingState', c.getWeights(), model.getWeights());
  // anything else names what arrived
  await rejectsWith(loadModel({} as any), TypeError, /^loadModel: bytes must be a Uint8Array or an ArrayBuffer holding a safetensors file, got object$/);
  await rejectsWith(loadModel(new DataView(buffer) as any), TypeError,
    /^loadModel: bytes must be a Uint8Array or an ArrayBuffer holding a safetensors file, got a DataView \(its bytes are new Uint8Array\(v.buffer, v.byteOffset, v.byteLength\)\)$/);
  await rejectsWith(loadRNN(new Blob([buffer]) as any), TypeError, /^loadRNN: bytes must be a Uint8Array or an ArrayBuffer holding a safetensors file, got a Blob$/);
  throwsWith(() => c.loadWeights([1, 2, 3] as any), TypeError, /^loadWeights: bytes must be a Uint8Array or an ArrayBuffer holding a safetensors file, got an array of length 3$/);
  for (const m of [model, a, rnn, b, c]) m.dispose();
});

Buffers.run();
