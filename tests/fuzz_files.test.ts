// Fuzzing of model files and training states: seeded mutations of valid files — bit flips,
// truncation, random bytes, and edits to the header (offsets, shapes, dtypes, the length
// field), the config and the training state, half of them with the checksum removed so that
// they reach the checks behind it — fed to loadRNN, loadModel, loadWeights and
// setTrainingState. Each call either succeeds or throws an Error that names the function
// called and what is wrong, within 2 s; a failed loadWeights or setTrainingState leaves the
// model as it was; the process never aborts. `npm run fuzz` runs many more, with a fresh seed
// (FUZZ_RUNS, FUZZ_SEED).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CharTokenizer, createModel, createRNN, loadModel, loadRNN, Random, type Model, type Network } from '../dist/index.js';
import { unsealed } from './_utils.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);
const SEED = Number(process.env.FUZZ_SEED ?? 1);

// --- the file as parts, and back ---

interface Parts {
  header: Record<string, any>;
  data: Uint8Array;
}

function split(bytes: Uint8Array): Parts {
  const N = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + N))), data: bytes.slice(8 + N) };
}

function join(p: Parts, text = JSON.stringify(p.header), lengthDelta = 0): Uint8Array {
  const json = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + json.length + p.data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(Math.max(0, json.length + lengthDelta)), true);
  out.set(json, 8);
  out.set(p.data, 8 + json.length);
  return out;
}

// --- mutations ---

/** A value of a random kind, often near a valid one. */
function junk(rng: Random): unknown {
  const values = [null, -1, 0, 0.5, 1, 2, 3, 1e6, 4294967296, 2 ** 53, 1e308, -0, '3', 'x', '', true, [], [1], {}, { a: 1 }, 'F32', 'lstm'];
  return values[rng.int(values.length)];
}

/** Replace, delete or add one key of an object (in place). */
function editObject(rng: Random, o: Record<string, any>): void {
  const keys = Object.keys(o);
  const r = rng.int(10);
  if (r === 0 || keys.length === 0) o[['layer', 'n_as', 'foo', '__proto__', 'x'][rng.int(5)]] = junk(rng);
  else if (r === 1) delete o[keys[rng.int(keys.length)]];
  else {
    const k = keys[rng.int(keys.length)];
    if (typeof o[k] === 'object' && o[k] !== null && !Array.isArray(o[k]) && rng.int(2) === 0) editObject(rng, o[k]);
    else if (typeof o[k] === 'number' && rng.int(2) === 0) o[k] = o[k] + [1, -1, 1000, 1e6][rng.int(4)];
    else o[k] = junk(rng);
  }
}

/** Edit a JSON string held in the metadata: a key of the object, or the text itself. */
function editJSONText(rng: Random, text: string): string {
  const r = rng.int(8);
  if (r === 0) return text.slice(0, rng.int(text.length));
  if (r === 1) return JSON.stringify(junk(rng));
  const o = JSON.parse(text);
  if (typeof o !== 'object' || o === null) return text;
  editObject(rng, o);
  return JSON.stringify(o);
}

/** Edit one tensor entry of the header: offsets, shape, dtype or the whole entry. */
function editTensor(rng: Random, p: Parts): void {
  const names = Object.keys(p.header).filter((k) => k !== '__metadata__');
  const t = p.header[names[rng.int(names.length)]];
  switch (rng.int(6)) {
    case 0: t.data_offsets[rng.int(2)] += [4, -4, 1, -1, 1e9, -1e9][rng.int(6)]; break;
    case 1: t.data_offsets = [t.data_offsets[1], t.data_offsets[0]]; break;
    case 2: t.shape[rng.int(Math.max(1, t.shape.length))] = junk(rng); break;
    case 3: if (rng.int(2)) t.shape.push(1 + rng.int(3)); else t.shape.pop(); break;
    case 4: t.dtype = ['F16', 'BF16', 'F64', 'I32', 'f32', 'X', 5][rng.int(7)]; break;
    default: p.header[names[rng.int(names.length)]] = junk(rng); break;
  }
}

/** One seeded mutation of a valid file; `kind` names it in failures. */
function mutate(rng: Random, bytes: Uint8Array): { kind: string; bytes: Uint8Array } {
  const r = rng.int(12);
  if (r === 0) {
    const out = bytes.slice();
    const flips = 1 + rng.int(8);
    for (let i = 0; i < flips; i++) out[rng.int(out.length)] ^= 1 << rng.int(8);
    return { kind: `${flips} bit flips`, bytes: out };
  }
  if (r === 1) return { kind: 'truncation', bytes: bytes.slice(0, rng.int(bytes.length)) };
  if (r === 2) {
    const out = new Uint8Array(rng.int(200));
    for (let i = 0; i < out.length; i++) out[i] = rng.int(256);
    if (out.length >= 8 && rng.int(2)) new DataView(out.buffer).setBigUint64(0, BigInt(rng.int(out.length)), true);
    return { kind: 'random bytes', bytes: out };
  }
  const p = split(bytes);
  // half the edits of the header are made on purpose (the checksum removed), so that they reach
  // the checks behind it; the other half must be refused as damaged
  if (rng.int(2) === 0) p.header.__metadata__ = unsealed(p.header.__metadata__);
  const meta = p.header.__metadata__ as Record<string, string>;
  if (r === 3) return { kind: 'header length field', bytes: join(p, undefined, [1, -1, 8, -8, 1e6, 1e12][rng.int(6)]) };
  if (r === 4 || r === 5) {
    editTensor(rng, p);
    return { kind: 'tensor entry', bytes: join(p) };
  }
  if (r === 6) {
    meta[['format', 'format_version', 'checkpoint_version'][rng.int(3)]] = ['2', '', 'rnn', '1'][rng.int(4)];
    return { kind: 'format', bytes: join(p) };
  }
  if (r === 7 && meta.training !== undefined) {
    meta.training = editJSONText(rng, meta.training);
    return { kind: 'training state', bytes: join(p) };
  }
  if (r === 8) {
    const out = bytes.slice();
    const at = 8 + rng.int(out.length - 8);
    out.fill(rng.int(256), at, at + 1 + rng.int(16));
    return { kind: 'overwritten run', bytes: out };
  }
  meta.config = editJSONText(rng, meta.config);
  return { kind: 'config', bytes: join(p) };
}

// --- the models whose files are fuzzed ---

async function models(): Promise<{ name: string; model: Network; rnn: boolean }[]> {
  const chars = CharTokenizer.fromText('abcd');
  const V = chars.size;
  const list: { name: string; model: Network; rnn: boolean }[] = [
    { name: 'rnn tokens', model: await createRNN({ n_x: 5, n_a: 4, n_y: 5, input: 'tokens', seed: 1 }), rnn: true },
    { name: 'lstm bi 2 layers', model: await createRNN({ cell: 'lstm', n_x: 2, n_a: 3, n_y: 2, layers: 2, bidirectional: true, output: 'linear', seed: 2 }), rnn: true },
    { name: 'gru one-to-one', model: await createModel({ architecture: 'one-to-one', cell: 'gru', n_x: 3, n_a: 4, n_y: 2, seed: 3 }), rnn: false },
    { name: 'one-to-many', model: await createModel({ architecture: 'one-to-many', n_y: V, n_a: 4, tokenizers: { y: chars }, seed: 4 }), rnn: false },
    { name: 'many-to-one', model: await createModel({ architecture: 'many-to-one', n_x: V, n_a: 3, n_y: 2, input: 'tokens', tokenizers: { x: chars }, seed: 5 }), rnn: false },
    { name: 'encoder-decoder', model: await createModel({ architecture: 'encoder-decoder', cell: 'lstm', n_x: V, n_y: V, n_a: 4, input: 'tokens',
      attention: 'general', encoder: { bidirectional: true }, decoder: { n_a: 3 }, tokenizers: { x: chars, y: chars }, seed: 6 }), rnn: false },
    // the options a config records only when set: no biases, the loss's options
    { name: 'gru without biases, loss options', model: await createRNN({ cell: 'gru', n_x: 4, n_a: 3, n_y: 3, input: 'tokens', bias: false, reduction: 'mean',
      classWeights: [1, 0.5, 2], labelSmoothing: 0.1, ignoreIndex: -100, seed: 7 }), rnn: true },
    { name: 'many-to-one sigmoid without biases (recurrent, output), posWeight', model: await createModel({ architecture: 'many-to-one', n_x: 3, n_a: 4, n_y: 2,
      output: 'sigmoid', posWeight: [3, 0.5], bias: false, headBias: false, seed: 8 }), rnn: false },
  ];
  return list;
}

/** Run `call`; it succeeds, or throws an Error naming `where` and the problem, within 2 s. */
async function attempt(label: string, where: string, call: () => unknown): Promise<boolean> {
  const start = performance.now();
  let ok = true;
  try {
    const r = await call();
    (r as Model | undefined)?.dispose?.();
  } catch (e) {
    ok = false;
    assert.instance(e, Error, `${label}: threw a non-Error ${String(e)}`);
    const m = (e as Error).message;
    assert.ok(m.startsWith(`${where}: `) && m.length > where.length + 12, `${label}: the message must name ${where} and the problem: ${(e as Error).constructor.name}: ${m}`);
  }
  const ms = performance.now() - start;
  assert.ok(ms < 2000, `${label}: took ${ms.toFixed(0)} ms`);
  return ok;
}

const Files = suite(`model files: ${RUNS} seeded mutations (seed ${SEED})`);

Files('loadRNN, loadModel and loadWeights succeed or refuse with a named error; a failed loadWeights changes nothing', async () => {
  const list = await models();
  const rng = new Random(SEED);
  let loaded = 0, refused = 0;
  for (let i = 0; i < RUNS; i++) {
    const { name, model, rnn } = list[rng.int(list.length)];
    const { kind, bytes } = mutate(rng, model.save());
    const label = `mutation ${i} (${kind} of ${name})`;
    const loaders: [string, () => unknown][] = [['loadModel', () => loadModel(bytes)], ['loadWeights', () => model.loadWeights(bytes)]];
    if (rnn) loaders.push(['loadRNN', () => loadRNN(bytes)]);
    const [where, call] = loaders[rng.int(loaders.length)];
    const weights = model.getWeights();
    const ok = await attempt(label, where, call);
    if (ok) loaded++;
    else refused++;
    if (!ok && where === 'loadWeights') assert.equal(model.getWeights(), weights, `${label}: the model changed`);
    if (where === 'loadWeights') model.setWeights(weights);        // a successful mutated load is undone
  }
  assert.ok(refused > RUNS / 2 && loaded > RUNS / 100, `refused ${refused}, loaded ${loaded}`);
  for (const { model } of list) model.dispose();
});

Files.run();

// ---

const States = suite(`training states: ${Math.ceil(RUNS / 2)} seeded mutations (seed ${SEED})`);

States('setTrainingState succeeds or refuses with a named error, and a refused state changes nothing', async () => {
  const V = 5;
  const data = { x: [[0, 1, 2, 3], [4, 3, 2, 1], [1, 1, 2], [0, 4]], y: [[1, 2, 3, 4], [3, 2, 1, 0], [2, 3, 4], [1, 0]] };
  const states: { model: any; bytes: Uint8Array }[] = [];
  for (const [i, optimizer] of (['adam', 'sgd', 'adagrad'] as const).entries()) {
    const m = await createRNN({ cell: i === 1 ? 'gru' : 'rnn', n_x: V, n_a: 4, n_y: V, input: 'tokens', seed: i });
    // stop inside the second epoch, with early stopping keeping its best weights
    const stop = new AbortController();
    await m.fit(data, {
      epochs: 3, batchSize: 2, optimizer: optimizer === 'sgd' ? { type: 'sgd', momentum: 0.9 } : optimizer,
      earlyStopping: { patience: 5, restoreBestWeights: true },
      onProgress: (p) => { if (p.epoch === 1) stop.abort(); }, signal: stop.signal,
    });
    states.push({ model: m, bytes: m.getTrainingState() });
  }
  const rng = new Random(SEED + 1);
  let restored = 0, refused = 0;
  for (let i = 0; i < Math.ceil(RUNS / 2); i++) {
    const s = states[rng.int(states.length)];
    const { kind, bytes } = mutate(rng, s.bytes);
    const label = `mutation ${i} (${kind})`;
    const before = s.model.getTrainingState();
    const ok = await attempt(label, 'setTrainingState', () => s.model.setTrainingState(bytes));
    if (ok) {
      restored++;
      s.model.forward({ x: [[0, 1]] });
      s.model.setTrainingState(s.bytes);
    } else {
      refused++;
      assert.equal(s.model.getTrainingState(), before, `${label}: the training state changed`);
    }
  }
  assert.ok(refused > RUNS / 4 && restored > RUNS / 200, `refused ${refused}, restored ${restored}`);
  for (const s of states) s.model.dispose();
});

States.run();
