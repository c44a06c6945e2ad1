// The computation the browser test runs in Node, in a page and in a module worker:
// a small seeded model, a few training steps, then a forward pass. Plain arrays out,
// so the result crosses postMessage and Playwright unchanged.
// T = 6 steps, B = 3 sequences, n_x = n_y = 5 tokens, n_a = 8 hidden units.

/** @param {typeof import('../../dist/index.js').createRNN} createRNN */
export async function workload(createRNN) {
  const rnn = await createRNN({ n_x: 5, n_a: 8, n_y: 5, input: 'tokens', output: 'softmax', reduction: 'mean', seed: 7 });
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
