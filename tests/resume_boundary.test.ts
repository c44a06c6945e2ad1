// A fit aborted between epochs — after the last batch of one, before the first of the next —
// resumes bit for bit: the next epoch's shuffle must come from the generator state the
// uninterrupted run draws it from. (The command-line trainer stops there whenever --steps or
// Ctrl-C lands on an epoch's last batch.)
import { test } from 'uvu';
import { createRNN, Random } from '../dist/index.js';
import { checkSame, echo } from './_utils.js';

const config = { cell: 'gru', n_x: 6, n_a: 10, n_y: 6, input: 'tokens', reduction: 'mean', outputDropout: 0.1, seed: 4 } as const;
const options = { epochs: 4, batchSize: 5, learningRate: 0.01 } as const;

test('a fit aborted at an epoch boundary and resumed ends with the weights of the uninterrupted run', async () => {
  const data = echo(new Random(9), 20, 8, 6, 2);           // 4 batches per epoch
  const whole = await createRNN(config);
  await whole.fit(data, options);

  for (const stopAfter of [4, 8]) {                         // the last batch of epoch 1, of epoch 2
    const first = await createRNN(config);
    const controller = new AbortController();
    await first.fit(data, { ...options, signal: controller.signal, onProgress: (p) => { if (p.step === stopAfter) controller.abort(); } });
    const second = await createRNN({ ...config, seed: 5 });
    second.setTrainingState(first.getTrainingState());
    await second.fit(data, { ...options, resume: true });
    checkSame(`weights, stopped after step ${stopAfter}`, second.getWeights(), whole.getWeights());
    first.dispose(); second.dispose();
  }
  whole.dispose();
});

test.run();
