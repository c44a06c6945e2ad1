// The computation the browser test runs in Node, in a page and in a module worker:
// a small seeded model, a few training steps, then a forward pass; and an LSTM
// encoder-decoder trained a few steps, decoded greedily and by beam search, and reloaded
// from its own file; and a word-level model with an embedding tied to its output layer,
// trained by fit() on language-model batches read from a web stream of text (a Response body
// through a TextDecoderStream, as a fetch gives it). Plain arrays out, so the result crosses
// postMessage and Playwright unchanged. T = 6 steps, B = 3 sequences, n_x = n_y = 5 tokens,
// n_a = 8 hidden units. The kernel build is 'simd' unless given: its bits are the same on every
// machine.

/** @param {typeof import('../../dist/index.js')} lib
 *  @param {'auto' | 'relaxed' | 'simd' | 'scalar'} backend */
export async function workload(lib, backend = 'simd') {
  const result = {
    ...await sequenceModel(lib.createRNN, backend), translator: await translator(lib, backend), streamed: await streamed(lib, backend),
  };
  // every model is disposed: the instances are dropped
  return { ...result, instances: lib.getMemoryStats().instances };
}

/** A word-level language model, fit() over a stream of text chunks, 3 epochs.
 *  @param {typeof import('../../dist/index.js')} lib */
async function streamed({ createModel, languageModelBatches, WordTokenizer }, backend) {
  const text = 'the cat sat on the mat . the dog sat on the log . '.repeat(6);
  const vocab = WordTokenizer.fromText(text, { bos: false, eos: false });
  const chunks = () => new Response(text).body.pipeThrough(new TextDecoderStream());
  const model = await createModel({
    architecture: 'many-to-many', cell: 'gru', input: 'tokens', n_x: vocab.size, n_y: vocab.size, n_a: 8,
    embedding: 8, tieWeights: true, reduction: 'mean', seed: 3, backend,
  });
  try {
    const r = await model.fit(() => languageModelBatches(chunks(), vocab, { T: 6, batchSize: 4 }), { epochs: 3, learningRate: 0.05, poolSize: 2 });
    return { losses: r.epochLosses, steps: r.steps, weights: Array.from(model.getWeights()) };
  } finally {
    model.dispose();
  }
}

/** @param {typeof import('../../dist/index.js').createRNN} createRNN */
async function sequenceModel(createRNN, backend) {
  const rnn = await createRNN({ n_x: 5, n_a: 8, n_y: 5, input: 'tokens', output: 'softmax', reduction: 'mean', seed: 7, backend });
  try {
    // learn to predict the next token of three counting sequences
    const x = [[0, 1, 2, 3, 4, 0], [2, 3, 4, 0, 1, 2], [4, 0, 1, 2, 3, 4]];
    const y = x.map((s) => s.map((t) => (t + 1) % 5));
    const losses = [];
    for (let i = 0; i < 20; i++) {
      losses.push(rnn.trainStep({ x, y }, { optimizer: { type: 'adam', learningRate: 0.05 }, clipNorm: 5 }).loss);
    }
    const out = rnn.forward({ x, y });
    return {
      backend: rnn.backend,
      losses,
      loss: out.loss,
      yhat: Array.from(out.yhat),
      aT: Array.from(out.aT),
      weights: Array.from(rnn.getWeights()),
    };
  } finally {
    rnn.dispose();
  }
}

/** Reverse short token sequences with an encoder-decoder: training, decoding, a file round trip.
 *  @param {typeof import('../../dist/index.js')} lib */
async function translator({ CharTokenizer, createModel, loadModel }, backend) {
  const src = CharTokenizer.fromText('abc', { bos: false, eos: false });
  const tgt = CharTokenizer.fromText('abc');
  const model = await createModel({
    architecture: 'encoder-decoder', cell: 'lstm', input: 'tokens', n_x: src.size, n_a: 8, n_y: tgt.size,
    reduction: 'mean', seed: 5, tokenizers: { x: src, y: tgt }, backend,
  });
  try {
    const words = ['abc', 'cab', 'bca', 'ab', 'ca', 'bbc'];
    const batch = { x: words.map((w) => src.encode(w)), y: words.map((w) => tgt.encode([...w].reverse().join(''), { eos: true })) };
    const losses = [];
    for (let i = 0; i < 15; i++) losses.push(model.trainStep(batch, { learningRate: 0.05, clipNorm: 5 }).loss);
    const greedy = Array.from(model.generate(src.encode('abc'), { maxLength: 5 }));
    const beam = model.beamSearch(src.encode('cab'), { beamWidth: 3, maxLength: 5 }).map((h) => [...h.tokens, h.score]);
    const copy = await loadModel(model.save(), { architecture: 'encoder-decoder', backend });
    const reloaded = Array.from(copy.generate(src.encode('abc'), { maxLength: 5 }));
    copy.dispose();
    return { losses, greedy, beam, reloaded, weights: Array.from(model.getWeights()) };
  } finally {
    model.dispose();
  }
}
