// loadONNX: files written by torch.onnx.export (tests/fixtures/make_onnx.py) load and give
// PyTorch's outputs within 1e-5; a round trip toONNX → loadONNX is exact (weights, config,
// tokenizers); what rnn-wasm does not compute is refused naming the node; damaged files are
// refused with a clear error and never leave a model or memory behind.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { CharTokenizer, createModel, createRNN, getEngine, loadONNX, Random, toONNX, type Model } from '../dist/index.js';
import { loadONNXFile, saveONNX } from '../dist/node.js';
import { checkSame, rejectsWith } from './_utils.js';

const fixtures = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'onnx.json'), 'utf8'));
const file = (name: string) => new Uint8Array(readFileSync(join(__dirname, 'fixtures', name)));

/** A file decoded with the official schema, changed, and encoded again. */
function edit(bytes: Uint8Array, change: (m: onnx.ModelProto) => void): Uint8Array {
  const m = onnx.ModelProto.decode(bytes);
  change(m);
  return onnx.ModelProto.encode(m).finish();
}

const Torch = suite('loadONNX: files from torch.onnx.export match PyTorch');

for (const c of fixtures.cases.filter((c: any) => !c.refuse)) {
  Torch(`${c.name} → ${c.architecture}`, async () => {
    const model = await loadONNX(file(c.file)) as Model;
    try {
      assert.is(model.architecture, c.architecture);
      const [d0, d1, F] = c.shape;
      const [B, T] = c.batch_first ? [d0, d1] : [d1, d0];
      const at = (b: number, t: number) => (c.batch_first ? b * T + t : t * B + b) * F;
      // packed cases: each sequence has its own length (rnn-wasm takes it unpadded)
      const lengths: number[] = c.lengths ?? new Array(B).fill(T);
      const x = lengths.map((L, b) => Array.from({ length: L }, (_, t) => c.x.slice(at(b, t), at(b, t) + F)));
      const { yhat } = (model as any).forward({ x });
      const n = yhat.length / (c.architecture === 'many-to-many' ? B * T : B);
      for (let i = 0; i < c.y.length; i++) {
        // torch's output is (T, B, n) for a time-major module read at every step
        const step = Math.floor(i / n), k = i % n;
        const [b, t] = c.batch_first ? [Math.floor(step / T), step % T] : [step % B, Math.floor(step / B)];
        if (c.architecture === 'many-to-many' && t >= lengths[b]) continue;   // padding: torch's head reads zeros there
        const j = c.architecture === 'many-to-many' ? (b * T + t) * n + k : i;
        if (!(Math.abs(yhat[j] - c.y[i]) <= 1e-5)) assert.unreachable(`y[${i}]: rnn-wasm ${yhat[j]}, PyTorch ${c.y[i]}`);
      }
    } finally {
      model.dispose();
    }
  });
}

Torch('a loaded PyTorch model fine-tunes: the loss falls', async () => {
  const model = await loadONNX(file('onnx/gru_2layer_bi_h_softmax.onnx'));
  assert.is(model.architecture, 'many-to-one');
  const rng = new Random(4);
  const x = Array.from({ length: 8 }, () => Array.from({ length: 5 }, () => [rng.uniform(), rng.uniform(), rng.uniform()]));
  const y = x.map((s) => (s[0][0] > 0.5 ? 1 : 3));
  const batch = { x, y } as any;
  const before = (model as any).evaluate(batch).loss;
  for (let i = 0; i < 20; i++) (model as any).trainStep(batch, { learningRate: 0.01 });
  const after = (model as any).evaluate(batch).loss;
  assert.ok(after < 0.8 * before, `loss ${before} → ${after}`);
  model.dispose();
});

const Refused = suite('loadONNX: what rnn-wasm does not compute is refused, naming the node');

for (const c of fixtures.cases.filter((c: any) => c.refuse)) {
  Refused(`${c.name}`, async () => {
    await rejectsWith(loadONNX(file(c.file)), TypeError, new RegExp(`^loadONNX: .*${c.refuse}`, 'i'));
  });
}

Refused('cell settings rnn-wasm does not have: clip, input_forget, peepholes, a reverse-only layer, hard_sigmoid', async () => {
  const torch = file('onnx/lstm_h_sigmoid.onnx');
  const lstm = (m: onnx.ModelProto) => m.graph!.node!.find((n) => n.opType === 'LSTM')!;
  const attr = (name: string, a: Partial<onnx.IAttributeProto>) => onnx.AttributeProto.create({ name, ...a });
  const cases: [(m: onnx.ModelProto) => void, RegExp][] = [
    [(m) => { lstm(m).attribute!.push(attr('clip', { type: 1, f: 3 })); }, /node '\/rnn\/LSTM' \(LSTM\) sets clip/],
    [(m) => { lstm(m).attribute!.push(attr('input_forget', { type: 2, i: 1 })); }, /input_forget/],
    [(m) => { lstm(m).attribute!.push(attr('direction', { type: 3, s: new TextEncoder().encode('reverse') })); }, /direction 'reverse'/],
    [(m) => { lstm(m).attribute!.push(attr('activations', { type: 8, strings: ['HardSigmoid', 'Tanh', 'Tanh'].map((s) => new TextEncoder().encode(s)) })); }, /activations \[HardSigmoid, Tanh, Tanh\]/],
    [(m) => {
      const P = onnx.TensorProto.create({ name: 'P', dataType: 1, dims: [1, 12], floatData: new Array(12).fill(0.5) });
      m.graph!.initializer!.push(P);
      const n = lstm(m);
      while (n.input!.length < 7) n.input!.push('');
      n.input![7] = 'P';
    }, /peephole/],
  ];
  for (const [change, pattern] of cases) await rejectsWith(loadONNX(edit(torch, change)), TypeError, pattern);
});

Refused('an initial state from a graph input, and an output layer on a layer that is not the top', async () => {
  const torch = file('onnx/gru_last_step.onnx');
  const h0 = edit(torch, (m) => {
    m.graph!.input!.push(onnx.ValueInfoProto.create({ name: 'h0', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }, { dimParam: 'B' }, { dimValue: 4 }] } } } }));
    m.graph!.node!.find((n) => n.opType === 'GRU')!.input![5] = 'h0';
  });
  await rejectsWith(loadONNX(h0), TypeError, /node '\/rnn\/GRU' \(GRU\) starts from an initial_h other than zeros/);
  const lower = file('onnx/gru_2layer_bi_h_softmax.onnx');
  const wrong = edit(lower, (m) => {
    // read h_n[0] and h_n[1] (layer 0) instead of h_n[-2] and h_n[-1] (layer 1)
    for (const n of m.graph!.node!) {
      if (n.opType !== 'Constant' || !n.output![0].startsWith('/Constant')) continue;
      const t = n.attribute![0].t!;
      const v = new BigInt64Array(new Uint8Array(t.rawData!).slice().buffer)[0];
      t.rawData = new Uint8Array(BigInt64Array.of(v + 2n).buffer);
    }
  });
  await rejectsWith(loadONNX(wrong), TypeError, /reads h of layer 0 direction 0, h of layer 0 direction 1; rnn-wasm's models read every direction of the top layer \(layer 1\)/);
});

const RoundTrip = suite('loadONNX(toONNX(model)) is the same model');

for (const architecture of ['many-to-many', 'many-to-one', 'one-to-one'] as const) {
  for (const cell of ['rnn', 'lstm', 'gru'] as const) {
    RoundTrip(`${architecture} ${cell}: weights bit for bit, config, outputs`, async () => {
      const tokens = cell !== 'lstm';
      const model = await createModel({
        architecture, cell, n_x: 5, n_a: 3, n_y: 4, layers: 2, input: tokens ? 'tokens' : 'dense', output: cell === 'gru' ? 'linear' : 'sigmoid',
        reduction: 'mean', seed: 77, dropout: 0.25, ...(architecture === 'one-to-one' ? {} : { bidirectional: cell !== 'rnn' }),
        ...(cell === 'gru' ? { resetAfter: false } : {}), ...(cell === 'rnn' ? { activation: 'relu' } : {}),
      } as any) as Model;
      const back = await loadONNX(toONNX(model)) as Model;
      assert.is(back.architecture, architecture);
      checkSame('weights', back.getWeights(), model.getWeights());
      assert.equal(back.toJSON(), model.toJSON());
      const x = architecture === 'one-to-one' ? [tokens ? 2 : [0.1, 0.2, 0.3, 0.4, 0.5]] : [tokens ? [1, 4, 0] : [[0.1, 0.2, 0.3, 0.4, 0.5]]];
      checkSame('yhat', (back as any).forward({ x }).yhat, (model as any).forward({ x }).yhat);
      model.dispose();
      back.dispose();
    });
  }
}

RoundTrip('tokenizers and the sequence model of createRNN come back', async () => {
  const tok = CharTokenizer.fromText('abcdef', { bos: false, eos: false });
  const model = await createModel({ architecture: 'many-to-many', cell: 'lstm', input: 'tokens', n_x: tok.size, n_a: 4, n_y: tok.size, seed: 5, outputDropout: 0.1, tokenizers: { x: tok, y: tok } });
  const back = await loadONNX(toONNX(model)) as typeof model;
  assert.equal(back.tokenizers.x!.toJSON(), tok.toJSON());
  assert.equal(back.toJSON(), model.toJSON());
  model.dispose();
  back.dispose();
  const rnn = await createRNN({ n_x: 2, n_a: 3, n_y: 2, seed: 1 });
  const again = await loadONNX(toONNX(rnn));
  assert.is(again.architecture, 'many-to-many');
  assert.equal({ ...again.toJSON(), architecture: undefined }, { ...rnn.toJSON(), architecture: undefined });
  rnn.dispose();
  again.dispose();
});

RoundTrip('through a file: saveONNX and loadONNXFile (rnn-wasm/node)', async () => {
  const model = await createModel({ architecture: 'many-to-one', cell: 'lstm', n_x: 3, n_a: 2, n_y: 2, seed: 4 });
  const path = join(mkdtempSync(join(tmpdir(), 'rnn-wasm-onnx-')), 'model.onnx');
  await saveONNX(model, path);
  const back = await loadONNXFile(path, { seed: 9 });
  checkSame('weights', back.getWeights(), model.getWeights());
  assert.is(back.config.seed, 9);
  model.dispose();
  back.dispose();
});

RoundTrip('a config in the metadata that disagrees with the graph is refused', async () => {
  const model = await createModel({ architecture: 'many-to-one', cell: 'gru', n_x: 3, n_a: 2, n_y: 2, seed: 1 });
  const bytes = edit(toONNX(model), (m) => {
    const p = m.metadataProps!.find((e) => e.key === 'rnn-wasm.config')!;
    p.value = JSON.stringify({ ...JSON.parse(p.value!), n_a: 7 });
  });
  await rejectsWith(loadONNX(bytes), TypeError, /metadata says n_a = 7, but its graph holds 2/);
  model.dispose();
});

const Damaged = suite('loadONNX: damaged files');

Damaged('wrong arguments, empty, truncated and non-ONNX bytes are refused with clear errors', async () => {
  await rejectsWith(loadONNX('model.onnx' as any), TypeError, /loadONNX: bytes must be a Uint8Array/);
  await rejectsWith(loadONNX(new Uint8Array(0), { backend: 'gpu' } as any), TypeError, /loadONNX: options\.backend must be one of/);
  await rejectsWith(loadONNX(new Uint8Array(0), { seed: -1 }), RangeError, /loadONNX: options\.seed/);
  await rejectsWith(loadONNX(new Uint8Array(0), { seeds: 1 } as any), TypeError, /loadONNX: options has no field "seeds"; did you mean seed\?/);
  await rejectsWith(loadONNX(new Uint8Array(0)), RangeError, /loadONNX: .*without a graph/);
  const good = file('onnx/lstm_h_sigmoid.onnx');
  await rejectsWith(loadONNX(good.subarray(0, good.length - 100)), RangeError, /loadONNX: the file is damaged or not an ONNX model: .* at byte \d+/);
  await rejectsWith(loadONNX(new TextEncoder().encode('{"format": "layers-model"}')), RangeError, /loadONNX: the file is damaged/);
});

Damaged('a weight that is not finite is refused, and the model made for it is freed', async () => {
  const torch = file('onnx/lstm_h_sigmoid.onnx');
  const bad = edit(torch, (m) => {
    const W = m.graph!.initializer!.find((t) => t.dims!.length === 3)!;
    const data = new Float32Array(new Uint8Array(W.rawData!).slice().buffer);
    data[3] = NaN;
    W.rawData = new Uint8Array(data.buffer);
  });
  const { kernels } = await getEngine('auto');
  await rejectsWith(loadONNX(bad), RangeError, /weight_ih_l0 holds a value that is not finite/);
  const bytes = kernels.memory.buffer.byteLength;
  for (let i = 0; i < 50; i++) await rejectsWith(loadONNX(bad), RangeError, /not finite/);
  assert.is(kernels.memory.buffer.byteLength, bytes, 'memory did not grow');
});

Damaged('fuzz: mutated files load or throw a TypeError / RangeError from loadONNX, never anything else', async () => {
  const rng = new Random(Number(process.env.FUZZ_SEED ?? 2024));
  const model = await createModel({ architecture: 'many-to-many', cell: 'gru', input: 'tokens', n_x: 4, n_a: 3, n_y: 4, layers: 2, bidirectional: true, seed: 1 });
  const seeds = [toONNX(model), file('onnx/lstm_2layer_bi_softmax_unfolded.onnx'), file('onnx/gru_2layer_bi_h_softmax.onnx')];
  model.dispose();
  const runs = Number(process.env.FUZZ_RUNS ?? 300);
  let loaded = 0;
  for (let i = 0; i < runs; i++) {
    const bytes = seeds[i % seeds.length].slice();
    const edits = 1 + rng.int(4);
    let cut = bytes.length;
    for (let e = 0; e < edits; e++) {
      const at = rng.int(bytes.length);
      if (rng.int(4) === 0) cut = Math.min(cut, at);
      else bytes[at] = rng.int(4) === 0 ? bytes[at] ^ (1 << rng.int(8)) : rng.int(256);
    }
    try {
      const m = await loadONNX(bytes.subarray(0, cut));
      loaded++;
      m.dispose();
    } catch (e) {
      const ok = (e instanceof TypeError || e instanceof RangeError) && /^loadONNX: /.test((e as Error).message) && !/undefined|null|NaN/.test((e as Error).message.slice(0, 40));
      if (!ok) assert.unreachable(`mutation ${i}: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}\n${(e as Error)?.stack}`);
    }
  }
  assert.ok(loaded < runs, 'some mutations are refused');
});

/** One random change to a graph's structure: a node dropped or moved, an input rewired, an
 *  integer attribute or a tensor's shape changed. */
function mutateGraph(rng: Random, m: onnx.ModelProto): void {
  const nodes = m.graph!.node!;
  const names = [...nodes.flatMap((n) => n.output!), ...m.graph!.initializer!.map((t) => t.name!), ...m.graph!.input!.map((v) => v.name!)];
  const n = nodes[rng.int(nodes.length)];
  switch (rng.int(5)) {
    case 0: nodes.splice(nodes.indexOf(n), 1); break;
    case 1: nodes.splice(rng.int(nodes.length), 0, ...nodes.splice(nodes.indexOf(n), 1)); break;
    case 2: if (n.input!.length) n.input![rng.int(n.input!.length)] = names[rng.int(names.length)]; break;
    case 3: { const a = n.attribute!.find((x) => x.type === 2 || x.type === 7); if (a?.type === 2) a.i = rng.int(5) - 2; else if (a) a.ints = a.ints!.map(() => rng.int(5) - 2); break; }
    default: { const t = m.graph!.initializer![rng.int(m.graph!.initializer!.length)]; if (t?.dims?.length) t.dims[rng.int(t.dims.length)] = rng.int(9); }
  }
}

Damaged('fuzz: graphs changed node by node load or are refused by loadONNX', async () => {
  const rng = new Random(Number(process.env.FUZZ_SEED ?? 7));
  const model = await createModel({ architecture: 'many-to-one', cell: 'lstm', n_x: 3, n_a: 2, n_y: 3, layers: 2, bidirectional: true, seed: 1 });
  const seeds = [toONNX(model), file('onnx/rnn_opset11_softmax.onnx'), file('onnx/gru_2layer_bi_h_softmax.onnx'), file('onnx/lstm_raw_time_major.onnx'), file('onnx/lstm_packed_2layer_steps.onnx')];
  model.dispose();
  const runs = Number(process.env.FUZZ_RUNS ?? 300);
  for (let i = 0; i < runs; i++) {
    const bytes = edit(seeds[i % seeds.length], (m) => { for (let k = 1 + rng.int(3); k > 0; k--) mutateGraph(rng, m); });
    try {
      (await loadONNX(bytes)).dispose();
    } catch (e) {
      const ok = (e instanceof TypeError || e instanceof RangeError) && /^loadONNX: /.test((e as Error).message);
      if (!ok) assert.unreachable(`mutation ${i}: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}\n${(e as Error)?.stack}`);
    }
  }
});

Torch.run();
Refused.run();
RoundTrip.run();
Damaged.run();
