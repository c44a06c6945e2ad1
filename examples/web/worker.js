// The demo's Web Worker: it owns the model, trains it with fit() (which yields to the event
// loop, so Stop and the sampling controls reach it mid-run) — on more worker threads when asked,
// each computing a shard of every batch (data-parallel), or here alone where those cannot
// start — streams generated text while it trains, and saves and loads the model (IndexedDB
// works in workers too). The page talks to
// it with requests { id, type, … } answered by { id, ok, result | error }, and hears events
// { event: 'progress' | 'row' | 'text' | 'stopped', … }.
import {
  CharTokenizer, createModel, createWorkerPool, loadFromBlob, loadFromIndexedDB, pickToken, Random, resolveSampling, saveToIndexedDB,
} from '/rnn-wasm/index.js';
import { windowCount, windows } from '/rnn-wasm/cli/windows.js';

const BATCH = 32;
const HOLDOUT = 0.1;                 // the end of the text, held out
const HELD_OUT_TOKENS = 4096;        // scored at every logged step
const LOG_EVERY = 10;                // steps between rows of the learning curve
const TOKENS_PER_STEP = 3;           // generated text streamed after each training step
const SAMPLE_LENGTH = 280;           // characters per live sample

let model;                           // the model (many-to-many, characters)
let tokenizer;
let training;                        // { controller } while fit runs
let sampling = { temperature: 0.8, topK: 0, seed: 1 };
let live;                            // the sample being written: { probs, length, limit, sampler }

const emit = (event, data) => postMessage({ event, ...data });

const handlers = {
  /** Build a model for the text and start training it; answers once training has started. */
  async train({ text, cell, hidden, layers, seq, lr, threads }) {
    if (training) throw new Error('training is already running');
    if (typeof text !== 'string' || text.length < 4 * seq) throw new Error(`the text is too short: it needs at least ${4 * seq} characters`);
    tokenizer = CharTokenizer.fromText(text, { bos: false, eos: false });
    const ids = Uint16Array.from(tokenizer.encode(text));
    const total = windowCount(ids.length, seq), held = Math.max(1, Math.round(total * HOLDOUT));
    const train = windows(ids, seq, 0, total - held);
    const heldOut = windows(ids, seq, total - held, total);
    const sample = Math.min(held, Math.ceil(HELD_OUT_TOKENS / seq));
    const heldOutSample = { x: heldOut.x.slice(0, sample), y: heldOut.y.slice(0, sample) };
    model?.dispose();
    model = await createModel({
      architecture: 'many-to-many', cell, n_x: tokenizer.size, n_a: hidden, n_y: tokenizer.size, layers,
      input: 'tokens', output: 'softmax', reduction: 'mean', seed: 1, tokenizers: { x: tokenizer, y: tokenizer },
    });
    live = undefined;
    training = { controller: new AbortController(), pool: await startPool(threads) };
    fitInBackground(train, heldOutSample, seq, lr);
    return describe({ windows: train.x.length, heldOut: heldOut.x.length, threads: training.pool?.size ?? 1 });
  },

  stop() {
    training?.controller.abort();
  },

  /** The sampling settings for the live and later samples. */
  sampling({ temperature, topK }) {
    sampling = { ...sampling, temperature, topK };
    if (live) live.sampler = samplerOf();
  },

  /** Generate `length` characters, streamed as text events; answers when done. */
  async generate({ length }) {
    needModel();
    if (training) throw new Error('the text streams while training runs; Stop first to generate more');
    startSample(length);
    for (let i = 0; i < length; i++) {
      nextToken();
      if (i % 8 === 7) await new Promise((r) => setTimeout(r, 0));   // let the events out
    }
  },

  async save({ name }) {
    needModel();
    return saveToIndexedDB(model, name);
  },

  async load({ name }) {
    return replaceModel(() => loadFromIndexedDB(name, { architecture: 'many-to-many' }));
  },

  async upload({ file }) {
    return replaceModel(() => loadFromBlob(file, { architecture: 'many-to-many' }));
  },

  /** The model file's bytes (for a download). */
  bytes() {
    needModel();
    return model.save();
  },

  /** All weights, flat (the page's tests compare them). */
  weights() {
    needModel();
    return Array.from(model.getWeights());
  },
};

onmessage = async ({ data }) => {
  try {
    const result = await handlers[data.type](data);
    if (data.id !== undefined) postMessage({ id: data.id, ok: true, result });
  } catch (e) {
    if (data.id !== undefined) postMessage({ id: data.id, ok: false, error: e?.message ?? String(e) });
  }
};

/** Run fit until Stop: progress events, a learning-curve row every LOG_EVERY steps, and a few
 *  characters of live text after every step. */
async function fitInBackground(train, heldOutSample, seq, lr) {
  const start = performance.now();
  let sum = 0, count = 0, tokens = 0, stopped;
  try {
    const result = await model.fit(train, {
      epochs: 100000, batchSize: BATCH, optimizer: 'adam', learningRate: lr, clipNorm: 5, signal: training.controller.signal,
      workers: training.pool ?? 0,
      onProgress: (p) => {
        sum += p.loss;
        count++;
        tokens += Math.min(BATCH, train.x.length - p.batch * BATCH) * seq;
        const tokensPerSecond = tokens / ((performance.now() - start) / 1000);
        if (p.step % LOG_EVERY === 0) {
          const heldOutLoss = model.evaluate(heldOutSample, { batchSize: BATCH }).loss;
          emit('row', { row: { step: p.step, epoch: p.epoch + 1, tokens, trainLoss: sum / count, heldOutLoss, learningRate: p.learningRate, tokensPerSecond, elapsedMs: p.elapsedMs } });
          sum = count = 0;
        }
        emit('progress', { step: p.step, epoch: p.epoch + 1, loss: p.loss, tokensPerSecond });
        for (let i = 0; i < TOKENS_PER_STEP; i++) nextToken();
      },
    });
    stopped = { reason: result.stopReason ?? 'done', steps: result.steps, threads: training.pool?.size ?? 1 };
  } catch (e) {
    stopped = { reason: 'error', error: e?.message ?? String(e) };
  } finally {
    await training.pool?.dispose();
    training = undefined;
  }
  emit('stopped', stopped);
}

/** A pool of `threads` training workers, or none (train here) for 1 or where they cannot start. */
async function startPool(threads) {
  if (!(threads > 1)) return undefined;
  try {
    return await createWorkerPool({ size: threads });
  } catch {
    return undefined;
  }
}

/** One more character of the live sample (when one ends, the next one begins). */
function nextToken() {
  if (!live || live.length >= live.limit) startSample(SAMPLE_LENGTH);
  const token = pickToken(live.probs, live.sampler);
  emit('text', { text: tokenizer.tokens[token] });
  live.length++;
  live.probs = model.step(token);
}

/** Start a sample of `limit` characters from a new line (or a space), from a zero state. */
function startSample(limit) {
  model.resetState();
  const first = ['\n', ' '].map((c) => tokenizer.tokens.indexOf(c)).find((i) => i >= 0) ?? 0;
  live = { probs: model.step(first), length: 0, limit, sampler: samplerOf() };
  emit('text', { text: '', fresh: true });
}

function samplerOf() {
  const { temperature, topK, seed } = sampling;
  sampling.seed++;
  const options = temperature > 0 ? { strategy: 'sample', temperature, topK: topK > 0 ? topK : undefined, seed } : {};
  return resolveSampling('demo', options, tokenizer.size, new Random(seed));
}

async function replaceModel(load) {
  if (training) throw new Error('stop training first');
  const loaded = await load();
  if (!loaded.tokenizers.x) {
    loaded.dispose();
    throw new Error('the model file has no tokenizer; this page needs a character model (as it trains, or rnn-wasm train writes)');
  }
  model?.dispose();
  model = loaded;
  tokenizer = loaded.tokenizers.x;
  live = undefined;
  return describe({});
}

function describe(extra) {
  const c = model.config;
  return { cell: c.cell, hidden: c.n_a, layers: c.layers, vocab: tokenizer.size, numParams: model.numParams, ...extra };
}

function needModel() {
  if (!model) throw new Error('there is no model yet: train one, or load one');
}
