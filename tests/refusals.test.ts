// A call refused because its workspace does not fit leaves every model's memory as it was:
// the workspaces it grew before the refusal go back to their previous size (regions and
// bytes, per model), a step() or stream() in progress goes on as if nothing happened, and the
// model gives the same bits after. Each architecture is warmed up first (forward, a training
// step, generation), so that the workspaces a refused call replaces exist.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createModel, decodeSafetensors, getMemoryStats, type Network } from '../dist/index.js';
import { checkSame, countCalls } from './_utils.js';

/** n_a 1024: a<t> for N = T·B rows needs (T + 1)·B·1024·4 bytes, past one region (1 GiB)
 *  from N ≈ 262 000. */
const n_a = 1024, N = 300_000;

/** What a model holds: its bytes and regions, as memoryBytes and getMemoryStats() say. */
function held(model: Network) {
  const stats = getMemoryStats();
  return { memoryBytes: model.memoryBytes, usedBytes: stats.usedBytes, instances: stats.instances, models: stats.models };
}

/** Each refused call throws a RangeError naming its function, and leaves memory as it was. */
function refuses(model: Network, calls: [string, () => unknown][]): void {
  const before = held(model);
  for (const [name, call] of calls) {
    assert.throws(call, (e: Error) => e instanceof RangeError && e.message.startsWith(`${name}: `) && /needs|memory/.test(e.message), name);
    assert.equal(held(model), before, `${name} left memory as it was`);
  }
}

async function refusedFit(model: Network, data: unknown): Promise<void> {
  const before = held(model);
  await (model.fit as (d: unknown, o: object) => Promise<unknown>)(data, { epochs: 1, batchSize: 1 }).then(
    () => assert.unreachable('fit on a batch too large for memory'),
    (e: Error) => assert.ok(e instanceof RangeError && /^fit: /.test(e.message), e.message));
  assert.equal(held(model), before, 'fit left memory as it was');
}

// ---

const Sequences = suite('a refused call on a sequence model');

Sequences('a new model: the workspaces a refused call made are freed', async () => {
  const mm = await createModel({ architecture: 'many-to-many', input: 'tokens', n_x: 6, n_a, n_y: 6, seed: 1 });
  const long = { x: [new Int32Array(N)], y: [new Int32Array(N)] };
  refuses(mm, [
    ['trainStep', () => mm.trainStep(long, { learningRate: 0, tbptt: N })],
    ['forward', () => mm.forward(long)],
    ['generateMany', () => mm.generateMany(N, { prefix: [1], maxLength: 1 })],
  ]);
  const twin = await createModel({ architecture: 'many-to-many', input: 'tokens', n_x: 6, n_a, n_y: 6, seed: 1 });
  const small = { x: [[0, 1, 2, 3], [4, 5]], y: [[1, 2, 3, 4], [5, 0]] };
  checkSame('forward after', mm.forward(small).yhat, twin.forward(small).yhat);
  checkSame('a tbptt step after', Float32Array.of(mm.trainStep(small, { tbptt: 2 }).loss), Float32Array.of(twin.trainStep(small, { tbptt: 2 }).loss));
  mm.dispose();
  twin.dispose();
});

Sequences('a refused fit leaves the optimizer as it was: the model\'s own, state and all, or none', async () => {
  const small = { x: [[0, 1, 2, 3], [4, 5]], y: [[1, 2, 3, 4], [5, 0]] };
  const long = { x: [new Int32Array(N)], y: [new Int32Array(N)] };
  const m = await createModel({ architecture: 'many-to-many', input: 'tokens', n_x: 6, n_a, n_y: 6, seed: 1 });
  // what a training state says of the optimizer: its tensors (moments) and its config and step
  // (the fit's position is recorded by a fit that fails, so that resume: true continues it)
  const optimizerOf = () => {
    const f = decodeSafetensors(m.getTrainingState());
    const { optimizer, rng } = JSON.parse(f.metadata.training);
    return { optimizer, rng, tensors: f.tensors };
  };
  const same = (a: ReturnType<typeof optimizerOf>, b: ReturnType<typeof optimizerOf>, label: string) => {
    assert.equal({ optimizer: a.optimizer, rng: a.rng, names: [...a.tensors.keys()] }, { optimizer: b.optimizer, rng: b.rng, names: [...b.tensors.keys()] }, label);
    for (const [name, t] of a.tensors) checkSame(`${label}: ${name}`, t.data, b.tensors.get(name)!.data);
  };
  // a first fit, of an optimizer with state, refused at its first batch: no optimizer is left
  const none = optimizerOf();
  const fit = (options: object) => m.fit(long, { epochs: 1, batchSize: 1, ...options }).then(
    () => assert.unreachable('fit on a batch too large for memory'),
    (e: Error) => assert.ok(e instanceof RangeError && /^fit: /.test(e.message), e.message));
  await fit({ optimizer: 'adam' });
  same(optimizerOf(), none, 'no optimizer after a refused first fit');
  // the model's Adam after a step; a fit asking for RMSProp, refused, leaves that Adam
  m.trainStep(small, { optimizer: 'adam', learningRate: 1e-3 });
  const before = held(m), state = optimizerOf();
  await fit({ optimizer: 'rmsprop', learningRate: 1e-3 });
  assert.equal(held(m), before, 'memory as it was');
  same(optimizerOf(), state, 'Adam\'s moments, config and step');
  m.dispose();
});

Sequences('many-to-many: forward, predict, gradients, training, evaluate, fit, generation; step() goes on', async () => {
  const mm = await createModel({ architecture: 'many-to-many', input: 'tokens', n_x: 6, n_a, n_y: 6, seed: 1 });
  const twin = await createModel({ architecture: 'many-to-many', input: 'tokens', n_x: 6, n_a, n_y: 6, seed: 1 });
  const small = { x: [[0, 1, 2, 3], [4, 5]], y: [[1, 2, 3, 4], [5, 0]] };
  const out = mm.forward(small).yhat;
  mm.trainStep(small, { learningRate: 0 });
  mm.generateMany(3, { prefix: [1], maxLength: 10 });
  mm.beamSearch({ prefix: [1], beamWidth: 3, maxLength: 10 });
  mm.step(1);
  twin.step(1);
  const long = { x: [new Int32Array(N)], y: [new Int32Array(N)] };
  refuses(mm, [
    ['forward', () => mm.forward(long)],
    ['predict', () => mm.predict(long.x)],
    ['computeGradients', () => mm.computeGradients(long)],
    ['trainStep', () => mm.trainStep(long, { learningRate: 0 })],
    ['trainStep', () => mm.trainStep(long, { learningRate: 0, tbptt: N })],
    ['evaluate', () => mm.evaluate(long)],
    ['generateMany', () => mm.generateMany(N, { prefix: [1], maxLength: 1 })],
    ['beamSearch', () => mm.beamSearch({ prefix: [1], beamWidth: N, maxLength: 1 })],
  ]);
  await refusedFit(mm, long);
  checkSame('the stream goes on', mm.step(2), twin.step(2));
  checkSame('forward after', mm.forward(small).yhat, out);
  mm.dispose();
  twin.dispose();
});

Sequences('many-to-one and one-to-one: forward, predict, gradients, training, evaluate', async () => {
  const m1 = await createModel({ architecture: 'many-to-one', input: 'tokens', n_x: 5, n_a, n_y: 2, seed: 2 });
  const small = { x: [[0, 1, 2], [3]], y: [0, 1] };
  const out = m1.forward(small).yhat;
  m1.trainStep(small, { learningRate: 0 });
  m1.step(1);
  const long = { x: [new Int32Array(N)], y: [1] };
  refuses(m1, [
    ['forward', () => m1.forward(long)],
    ['predict', () => m1.predict(long.x)],
    ['computeGradients', () => m1.computeGradients(long)],
    ['trainStep', () => m1.trainStep(long, { learningRate: 0 })],
    ['evaluate', () => m1.evaluate(long)],
  ]);
  checkSame('forward after', m1.forward(small).yhat, out);
  m1.dispose();

  const o1 = await createModel({ architecture: 'one-to-one', n_x: 2, n_a, n_y: 2, seed: 3 });
  const few = { x: [[0.5, -1], [1, 2]], y: [0, 1] };
  const yhat = o1.forward(few).yhat;
  o1.trainStep(few, { learningRate: 0 });
  const many = { x: Array.from({ length: N }, () => [0, 0]), y: new Array<number>(N).fill(0) };
  refuses(o1, [
    ['forward', () => o1.forward(many)],
    ['trainStep', () => o1.trainStep(many, { learningRate: 0 })],
  ]);
  checkSame('forward after', o1.forward(few).yhat, yhat);
  o1.dispose();
});

Sequences.run();

// ---

const Decoders = suite('a refused call on a decoder');

Decoders('one-to-many: forward, training, generateMany, beamSearch; a stream goes on', async () => {
  const om = await createModel({ architecture: 'one-to-many', n_y: 6, n_a, startToken: 0, seed: 4 });
  const twin = await createModel({ architecture: 'one-to-many', n_y: 6, n_a, startToken: 0, seed: 4 });
  const small = { x: [0, 0], y: [[1, 2, 3], [4]] };
  const out = om.forward(small).yhat;
  om.trainStep(small, { learningRate: 0 });
  om.generateMany(3, { maxLength: 10 });
  const stream = om.stream({ maxLength: 20, seed: 5 }), same = twin.stream({ maxLength: 20, seed: 5 });
  assert.is(stream.next().value, same.next().value);
  const long = { x: [0], y: [new Int32Array(N)] };
  refuses(om, [
    ['forward', () => om.forward(long)],
    ['trainStep', () => om.trainStep(long, { learningRate: 0 })],
    ['generateMany', () => om.generateMany(N, { maxLength: 1 })],
    ['beamSearch', () => om.beamSearch({ beamWidth: N, maxLength: 1 })],
  ]);
  assert.equal([...stream], [...same], 'the stream goes on');
  checkSame('forward after', om.forward(small).yhat, out);
  om.dispose();
  twin.dispose();
});

Decoders('encoder-decoder: forward, training, generate, generateBatch, beamSearch, stream, resetState; step() goes on', async () => {
  const spec = { architecture: 'encoder-decoder', input: 'tokens', n_x: 5, n_y: 6, n_a, attention: 'general', startToken: 0, seed: 6 } as const;
  const ed = await createModel(spec), twin = await createModel(spec);
  const small = { x: [[1, 2, 3], [4]], y: [[1, 2], [3, 4, 5]] };
  const out = ed.forward(small).yhat;
  ed.trainStep(small, { learningRate: 0 });
  ed.generateBatch([[1, 2], [3]], { maxLength: 5 });
  ed.beamSearch([1, 2], { beamWidth: 3, maxLength: 5 });
  ed.resetState([1, 2, 3]);
  twin.resetState([1, 2, 3]);
  checkSame('step', ed.step(0), twin.step(0));
  const source = new Int32Array(N);
  const long = { x: [source], y: [[1]] };
  refuses(ed, [
    ['forward', () => ed.forward(long)],
    ['trainStep', () => ed.trainStep(long, { learningRate: 0 })],
    ['generate', () => ed.generate(source, { maxLength: 1 })],
    ['generateBatch', () => ed.generateBatch(Array.from({ length: N }, () => [1]), { maxLength: 1 })],
    ['beamSearch', () => ed.beamSearch(source, { beamWidth: 2, maxLength: 1 })],
    ['stream', () => ed.stream(source, { maxLength: 1 })],
    ['resetState', () => ed.resetState(source)],
  ]);
  checkSame('the step() stream goes on', ed.step(1), twin.step(1));
  checkSame('forward after', ed.forward(small).yhat, out);
  ed.dispose();
  twin.dispose();
});

Decoders("encoder-decoder: a beam too wide for the source's attention is refused before the source is encoded", async () => {
  const ed = await createModel({ architecture: 'encoder-decoder', input: 'tokens', n_x: 5, n_y: 6, n_a: 4, attention: 'dot', startToken: 0, seed: 7 });
  const hyps = ed.beamSearch([1, 2, 3], { beamWidth: 4, maxLength: 5 });
  // α for 300 rows × 1 000 000 source steps: more than one region holds; the encoder's own
  // workspace (1 000 000 steps × 4 units) would fit
  const source = new Int32Array(1_000_000);
  const before = held(ed);
  const calls = countCalls(ed, () => assert.throws(() => ed.beamSearch(source, { beamWidth: 300, maxLength: 1 }),
    (e: Error) => e instanceof RangeError && /^beamSearch: the attention workspace needs 300000000 values/.test(e.message)));
  assert.equal(calls, {}, 'no kernel ran: nothing was reserved or encoded');
  assert.equal(held(ed), before);
  assert.equal(ed.beamSearch([1, 2, 3], { beamWidth: 4, maxLength: 5 }), hyps);
  ed.dispose();
});

Decoders.run();
