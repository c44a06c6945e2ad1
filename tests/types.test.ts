// The model types the factories give (checked by `npm run typecheck`, which compiles this file):
// a config written as a literal types the model exactly; a config annotated with an exported
// type (RNNConfig, ManyToOneConfig, ModelConfig) types it with every input and output kind that
// type allows, never with the defaults; a config without input or output gets the defaults.
// A misspelt field stays a compile error. At run time, each model is what its type says.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createModel, createRNN, decodeSafetensors, encodeSafetensors, samplingDistribution, toONNX } from '../dist/index.js';
import type {
  AttentionKind, EncoderDecoderResult, EvaluateOptions, GeneratedWithAttention, Hypothesis, HypothesisWithAttention, MetricName,
  TokenWithAttention, SafetensorsErrorCode, StepSchedule, ScheduleConfig, TokenEmbeddingConfig,
  EncoderDecoder, InputKind, InputOf, ManyToMany, ManyToOne, ManyToOneConfig, Model, ModelConfig, ModelFor, OneToMany, OneToOne,
  OneToManyConfig, OutputKind, OutputOf, RNN, RNNConfig,
} from '../dist/index.js';
import { rejectsWith } from './_utils.js';

/** True when A and B are the same type (not merely assignable either way). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
/** A compile error unless A and B are the same type. */
function same<A, B>(_: Equal<A, B>): void {}

// ---
const Literal = suite('literal configs');

Literal('createRNN and createModel read input and output from the literal', async () => {
  const r = await createRNN({ n_x: 3, n_a: 4, n_y: 2, input: 'tokens', output: 'linear', seed: 1 });
  same<typeof r, RNN<'tokens', 'linear'>>(true);
  const m = await createModel({ architecture: 'many-to-one', n_x: 5, n_a: 4, n_y: 3, input: 'tokens', output: 'sigmoid', seed: 1 });
  same<typeof m, ManyToOne<'tokens', 'sigmoid'>>(true);
  const p = m.predict([[0, 1, 2]]);
  same<typeof p, Float32Array<ArrayBuffer>[]>(true);
  assert.instance(p[0], Float32Array);
  // @ts-expect-error: a class id is no target of a sigmoid output
  assert.throws(() => m.forward({ x: [[0, 1]], y: [1] }));
  const e = await createModel({ architecture: 'encoder-decoder', n_x: 5, n_a: 4, n_y: 6, input: 'tokens', output: 'softmax', seed: 1 });
  same<typeof e, EncoderDecoder<'tokens', 'softmax'>>(true);
  for (const model of [r, m, e]) model.dispose();
});

Literal('satisfies and as const keep the literal kinds of a config held in a variable', async () => {
  const cfg = { architecture: 'many-to-one', n_x: 5, n_a: 4, n_y: 3, input: 'tokens', output: 'sigmoid', seed: 1 } satisfies ManyToOneConfig;
  const m = await createModel(cfg);
  same<typeof m, ManyToOne<'tokens', 'sigmoid'>>(true);
  const r = await createRNN({ n_x: 3, n_a: 4, n_y: 2, output: 'sigmoid', seed: 1 } as const);
  same<typeof r, RNN<'dense', 'sigmoid'>>(true);
  m.dispose();
  r.dispose();
});

Literal.run();

// ---
const Annotated = suite('annotated configs');

Annotated('a config typed ManyToOneConfig gives a model of every kind that type allows', async () => {
  const cfg: ManyToOneConfig = { architecture: 'many-to-one', n_x: 5, n_a: 4, n_y: 3, input: 'tokens', output: 'sigmoid', seed: 1 };
  const m = await createModel(cfg);
  same<typeof m, ManyToOne<'tokens' | 'dense', 'softmax' | 'sigmoid' | 'linear'>>(true);
  const p = m.predict([[0, 1, 2]]);
  same<typeof p, (number | Float32Array<ArrayBuffer>)[]>(true);
  // @ts-expect-error: the predictions may be vectors (and here are)
  const ids: number[] = m.predict([[0, 1, 2]]);
  assert.instance(ids[0], Float32Array);
  assert.is(m.config.input, 'tokens');
  m.dispose();
});

Annotated('RNNConfig, and type arguments, narrow as far as the type says', async () => {
  const any: RNNConfig = { n_x: 3, n_a: 4, n_y: 2, input: 'tokens', seed: 1 };
  const r = await createRNN(any);
  same<typeof r, RNN<InputKind, OutputKind>>(true);
  // an optional field declared 'tokens' may still be left out: then it is 'dense'
  const tokens: RNNConfig<'tokens', 'linear'> = { n_x: 3, n_a: 4, n_y: 2, input: 'tokens', output: 'linear', seed: 1 };
  const t = await createRNN(tokens);
  same<typeof t, RNN<'tokens' | 'dense', 'linear' | 'softmax'>>(true);
  const exact: ManyToOneConfig<'tokens', 'sigmoid'> & { input: 'tokens'; output: 'sigmoid' } = {
    architecture: 'many-to-one', n_x: 5, n_a: 4, n_y: 3, input: 'tokens', output: 'sigmoid', seed: 1,
  };
  const m = await createModel(exact);
  same<typeof m, ManyToOne<'tokens', 'sigmoid'>>(true);
  for (const model of [r, t, m]) model.dispose();
});

Annotated('a union field, or one that may be undefined, gives every kind it may be', async () => {
  const input = 'tokens' as InputKind;
  const r = await createRNN({ n_x: 3, n_a: 4, n_y: 2, input, seed: 1 });
  same<typeof r, RNN<InputKind, 'softmax'>>(true);
  const output = undefined as 'linear' | undefined;
  const s = await createRNN({ n_x: 3, n_a: 4, n_y: 2, output, seed: 1 });
  same<typeof s, RNN<'dense', 'linear' | 'softmax'>>(true);
  assert.is(s.config.output, 'softmax');
  r.dispose();
  s.dispose();
});

Annotated('a config typed ModelConfig gives any model; ModelFor says the same of each config type', async () => {
  const make = (config: ModelConfig) => createModel(config);
  const m = await make({ architecture: 'one-to-many', n_a: 4, n_y: 3, startToken: 0, seed: 1 });
  same<typeof m, Model>(true);
  same<typeof m, OneToOne<InputKind, OutputKind> | OneToMany<OutputKind> | ManyToOne<InputKind, OutputKind>
    | ManyToMany<InputKind, OutputKind> | EncoderDecoder<InputKind, OutputKind>>(true);
  assert.is(m.architecture, 'one-to-many');
  // TypeScript narrows a union-typed const to the member assigned: here a OneToManyConfig
  const cfg: ModelConfig = { architecture: 'one-to-many', n_a: 4, n_y: 3, startToken: 0, seed: 1 };
  const g = await createModel(cfg);
  same<typeof g, OneToMany<'softmax' | 'sigmoid' | 'linear'>>(true);
  g.dispose();
  same<ModelFor<ManyToOneConfig>, ManyToOne<InputKind, OutputKind>>(true);
  same<ModelFor<OneToManyConfig<'linear'>>, OneToMany<'linear' | 'softmax'>>(true);
  same<InputOf<{ input: 'tokens' }>, 'tokens'>(true);
  same<InputOf<{ input?: 'tokens' }>, 'tokens' | 'dense'>(true);
  same<InputOf<{ input: any }>, InputKind>(true);
  same<OutputOf<{ output: 'linear' | 'sigmoid' }>, 'linear' | 'sigmoid'>(true);
  m.dispose();
});

Annotated.run();

// ---
const Defaults = suite('configs without input or output');

Defaults('the defaults: dense input, softmax output', async () => {
  const r = await createRNN({ n_x: 3, n_a: 4, n_y: 2, seed: 1 });
  same<typeof r, RNN<'dense', 'softmax'>>(true);
  const o = await createModel({ architecture: 'one-to-one', n_x: 3, n_a: 4, n_y: 2, seed: 1 });
  same<typeof o, OneToOne<'dense', 'softmax'>>(true);
  const g = await createModel({ architecture: 'one-to-many', n_a: 4, n_y: 3, startToken: 0, seed: 1 });
  same<typeof g, OneToMany<'softmax'>>(true);
  const p = o.predict([[0.1, 0.2, 0.3]]);
  same<typeof p, number[]>(true);
  assert.type(p[0], 'number');
  same<InputOf<{ n_x: 3 }>, 'dense'>(true);
  same<OutputOf<{ n_y: 2 }>, 'softmax'>(true);
  for (const model of [r, o, g]) model.dispose();
});

Defaults('a misspelt field is still a compile error, in a literal or a variable', async () => {
  // @ts-expect-error: `layer` is no field of RNNConfig (layers is)
  await rejectsWith(createRNN({ n_x: 3, n_a: 4, n_y: 2, layer: 2 }), TypeError, /^createRNN: config has no field "layer"/);
  const extra = { architecture: 'many-to-one', n_x: 3, n_a: 4, n_y: 2, outputs: 'linear' } as const;
  // @ts-expect-error: `outputs` is no field of ManyToOneConfig (output is)
  await rejectsWith(createModel(extra), TypeError, /^createModel: .*"outputs"; did you mean output\?$/);
  // @ts-expect-error: an annotated config is checked where it is written
  const bad: ManyToOneConfig = { architecture: 'many-to-one', n_x: 3, n_a: 4, n_y: 2, layer: 2 };
  assert.ok(bad);
});

Defaults.run();

// ---
const Exports = suite('types a caller needs are exported');

Exports('the kinds and options of public configs and methods', async () => {
  same<AttentionKind, 'none' | 'dot' | 'general'>(true);
  same<EvaluateOptions, { batchSize?: number; metrics?: readonly MetricName[] }>(true);
  const m = await createModel({ architecture: 'many-to-one', n_x: 2, n_a: 3, n_y: 2, seed: 1 });
  const options: EvaluateOptions = { batchSize: 1, metrics: ['accuracy'] };
  assert.type(m.evaluate({ x: [[[0, 1]]], y: [1] }, options).accuracy, 'number');
  m.dispose();
  const step: StepSchedule = { type: 'step', stepSize: 10 };
  const schedule: ScheduleConfig = step;
  const embedding: TokenEmbeddingConfig = { embedding: 8, tieWeights: false };
  const code: SafetensorsErrorCode | undefined = undefined;
  assert.ok(schedule && embedding && code === undefined);
});

Exports('returnAttention types what comes back: with α for true, as before for false or absent, either for a boolean', async () => {
  const e = await createModel({ architecture: 'encoder-decoder', n_x: 3, n_a: 4, n_y: 4, input: 'tokens', attention: 'dot', seed: 1 });
  const g = e.generate([0, 1], { maxLength: 2, returnAttention: true });
  same<typeof g, GeneratedWithAttention<'softmax'>>(true);
  const plain = e.generate([0, 1], { maxLength: 2 });
  same<typeof plain, number[]>(true);
  const off = e.generate([0, 1], { maxLength: 2, returnAttention: false });
  same<typeof off, number[]>(true);
  const flag = Math.random() < 2 as boolean;
  const either = e.generate([0, 1], { maxLength: 2, returnAttention: flag });
  same<typeof either, number[] | GeneratedWithAttention<'softmax'>>(true);
  const f = e.forward({ x: [[0]], y: [[1]] }, { returnAttention: true });
  same<typeof f.attention, Float32Array<ArrayBuffer>>(true);
  same<ReturnType<typeof e.forward<false>>, EncoderDecoderResult>(true);
  same<ReturnType<typeof e.generateBatch<true>>, GeneratedWithAttention<'softmax'>[]>(true);
  same<ReturnType<typeof e.beamSearch<true>>, HypothesisWithAttention[]>(true);
  same<ReturnType<typeof e.beamSearch<false>>, Hypothesis[]>(true);
  const [t] = e.stream([0, 1], { maxLength: 1, returnAttention: true });
  same<typeof t, TokenWithAttention>(true);
  assert.is(g.attention.length, g.sequence.length * 2);
  assert.is(t.attention.length, 2);
  e.dispose();
});

Exports.run();

// ---
const Bytes = suite('the files a model writes are bytes a browser API takes');

Bytes('save, getTrainingState, encodeSafetensors and toONNX type as ArrayBuffer-backed bytes: a Blob part, a fetch body', async () => {
  // under TypeScript 5.7+ with the DOM library, a Uint8Array<ArrayBufferLike> is neither
  const m = await createRNN({ n_x: 2, n_a: 3, n_y: 2, seed: 1 });
  const files = [m.save(), m.getTrainingState(), encodeSafetensors([{ name: 't', shape: [1], data: Float32Array.of(1) }]), toONNX(m)];
  same<typeof files, Uint8Array<ArrayBuffer>[]>(true);
  const blob = new Blob(files);
  const body: BodyInit = m.save();
  assert.is(blob.size, files.reduce((n, f) => n + f.length, 0));
  assert.is((await new Response(body).arrayBuffer()).byteLength, files[0].length);
  for (const f of files) assert.instance(f.buffer, ArrayBuffer);
  m.dispose();
});

Bytes('getWeights, getParam and params type as ArrayBuffer-backed copies: a Blob part, a buffer to transfer', async () => {
  const m = await createRNN({ n_x: 2, n_a: 3, n_y: 2, seed: 1 });
  const copies = [m.getWeights(), m.getParam('weight_hh_l0'), m.params.W_aa];
  same<typeof copies, Float32Array<ArrayBuffer>[]>(true);
  const blob = new Blob(copies);
  assert.is(blob.size, copies.reduce((n, c) => n + c.byteLength, 0));
  // a buffer that can be transferred, as to a Worker: postMessage(w, [w.buffer])
  const transfer: Transferable[] = copies.map((c) => c.buffer);
  const { port1, port2 } = new MessageChannel();
  const got = new Promise<Float32Array>((resolve) => { port2.onmessage = (e) => resolve(e.data as Float32Array); });
  const w = m.getWeights();
  port1.postMessage(w, [w.buffer]);
  assert.is((await got).length, m.numParams);
  assert.is(w.length, 0, 'the buffer was transferred');
  port1.close(); port2.close();
  assert.ok(transfer.length === 3);
  m.dispose();
});

Bytes('every typed array a model returns types as ArrayBuffer-backed: outputs, gradients, states, steps, generated vectors', async () => {
  // forward's outputs, predict, computeGradients' gradients and state gradients, step(),
  // generated vectors, the zero-copy views, decoded tensors and samplingDistribution: each a
  // Blob part, and each copy's buffer transferable, as to a Worker
  type F32 = Float32Array<ArrayBuffer>;
  const r = await createModel({ architecture: 'many-to-many', cell: 'lstm', n_x: 2, n_a: 3, n_y: 2, output: 'linear', seed: 1 });
  const batch = { x: [[[0, 1], [1, 0]]], y: [[[1, 0], [0, 1]]] };
  const f = r.forward(batch);
  const g = r.computeGradients(batch);
  const fromRNN = [f.yhat, f.a, f.aT, f.cT!, g.grads.weight_hh_l0, g.da0, g.dc0!, g.dx!, r.step([0.5, 0.5])];
  same<typeof f.yhat | typeof f.a | typeof f.aT | NonNullable<typeof f.cT>, F32>(true);
  same<typeof g.grads, Record<string, F32>>(true);
  same<typeof g.da0 | NonNullable<typeof g.dc0> | NonNullable<typeof g.dx>, F32>(true);
  same<ReturnType<typeof r.step> | ReturnType<typeof r.weightsView>, F32>(true);
  same<ReturnType<typeof r.gradientsView>, Record<string, F32>>(true);
  const m = await createModel({ architecture: 'many-to-one', cell: 'lstm', n_x: 2, n_a: 3, n_y: 2, output: 'sigmoid', seed: 1 });
  const mf = m.forward({ x: [[[0, 1]]] });
  const p = m.predict([[[0, 1]]]);
  same<typeof mf.yhat | typeof mf.aT | NonNullable<typeof mf.cT> | (typeof p)[number] | ReturnType<typeof m.step>, F32>(true);
  const o = await createModel({ architecture: 'one-to-one', n_x: 2, n_a: 3, n_y: 2, seed: 1 });
  const of = o.forward({ x: [[0, 1]] });
  same<typeof of.yhat | typeof of.a, F32>(true);
  const gen = await createModel({ architecture: 'one-to-many', cell: 'lstm', n_a: 3, n_y: 2, output: 'linear', seed: 1 });
  const gf = gen.forward({ x: [[0, 1]], y: [[[1, 0]]] });
  const gg = gen.computeGradients({ x: [[0, 1]], y: [[[1, 0]]] });
  let seen: F32[] = [];
  const vectors = gen.generate({ x: [0, 1], maxLength: 2, onToken: (v) => { same<typeof v, F32>(true); seen.push(v); } });
  gen.resetState();
  const gs = gen.step([1, 0]);
  same<typeof gf.yhat | (typeof vectors)[number] | typeof gs | typeof gg.da0, F32>(true);
  const e = await createModel({ architecture: 'encoder-decoder', n_x: 3, n_a: 3, n_y: 4, input: 'tokens', seed: 1 });
  const ef = e.forward({ x: [[0, 1]], y: [[1, 2]] });
  e.resetState([0, 1]);
  const es = e.step(1);
  same<typeof ef.yhat | typeof es, F32>(true);
  const decoded = decodeSafetensors(r.save()).tensors.get('weight_hh_l0')!.data;
  const dist = samplingDistribution([0.2, 0.8], { greedy: false, temperature: 1, topK: 2, topP: 1 });
  same<typeof decoded, F32>(true);
  same<typeof dist, Float64Array<ArrayBuffer>>(true);
  const copies: F32[] = [...fromRNN, mf.yhat, mf.aT, mf.cT!, p[0], m.step([0, 1]), of.yhat, of.a, gf.yhat, ...vectors, ...seen, gs, gg.da0, ef.yhat, es, decoded];
  const blob = new Blob([...copies, dist, r.weightsView(), ...Object.values(r.gradientsView())]);
  assert.ok(blob.size > 0);
  const { port1, port2 } = new MessageChannel();
  const got = new Promise<number>((resolve) => { port2.onmessage = (ev) => resolve((ev.data as unknown[]).length); });
  port1.postMessage(copies, copies.map((c) => c.buffer).filter((b, i, all) => all.indexOf(b) === i));
  assert.is(await got, copies.length);
  assert.ok(copies.every((c) => c.length === 0), 'every buffer was transferred');
  port1.close(); port2.close();
  for (const model of [r, m, o, gen, e]) model.dispose();
});

Bytes.run();
