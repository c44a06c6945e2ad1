// Property test of the public API under bad input: thousands of seeded, malformed calls to
// forward / trainStep / computeGradients / setParam on every architecture's base model. Each
// call either succeeds or throws a TypeError / RangeError; none crashes, none changes the
// weights when it throws, and the model still trains afterwards.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRNN, Random } from '../dist/index.js';
import { checkSame } from './_utils.js';

/** A random value of a random kind, sometimes close to valid. */
function junk(rng: Random, depth = 0): unknown {
  const pick = rng.int(depth > 2 ? 8 : 12);
  switch (pick) {
    case 0: return rng.int(7) - 2;
    case 1: return [NaN, Infinity, -Infinity, 1e40, -0, 0.5, 2.5][rng.int(7)];
    case 2: return ['', 'a', '3', 'tokens'][rng.int(4)];
    case 3: return null;
    case 4: return undefined;
    case 5: return rng.int(2) === 0;
    case 6: return {};
    case 7: return new Float32Array(rng.int(6));
    default: return Array.from({ length: rng.int(5) }, () => junk(rng, depth + 1));
  }
}

/** A batch that is valid except for one random change. */
function nearlyValid(rng: Random, dense: boolean): Record<string, unknown> {
  const B = 1 + rng.int(3), T = 1 + rng.int(4);
  const x: unknown[] = Array.from({ length: B }, () => Array.from({ length: T }, () => dense ? [rng.uniform(), rng.uniform(), rng.uniform()] : rng.int(3)));
  const y: unknown[] = Array.from({ length: B }, () => Array.from({ length: T }, () => rng.int(4)));
  const batch: Record<string, unknown> = { x, y };
  switch (rng.int(6)) {
    case 0: (x as unknown[][])[rng.int(B)][rng.int(T)] = junk(rng); break;
    case 1: (y as unknown[][])[rng.int(B)][rng.int(T)] = junk(rng); break;
    case 2: x[rng.int(B)] = junk(rng); break;
    case 3: batch.a0 = junk(rng); break;
    case 4: batch[['x', 'y'][rng.int(2)]] = junk(rng); break;
    default: batch.c0 = junk(rng); break;
  }
  return batch;
}

for (const [cell, dense] of [['rnn', false], ['lstm', true], ['gru', false]] as const) {
  test(`${cell}: 1500 malformed calls give TypeError / RangeError or a result, never a crash or changed weights`, async () => {
    const model = await createRNN({ cell, n_x: 3, n_a: 5, n_y: 4, input: dense ? 'dense' : 'tokens', seed: 1 });
    const rng = new Random(cell.length * 101);
    let thrown = 0, ok = 0;
    for (let i = 0; i < 1500; i++) {
      const weights = model.getWeights();
      const call = rng.int(4);
      try {
        if (call === 0) model.forward(nearlyValid(rng, dense) as any);
        else if (call === 1) model.trainStep(nearlyValid(rng, dense) as any, rng.int(3) === 0 ? (junk(rng) as any) : { learningRate: 1e-3 });
        else if (call === 2) model.computeGradients(nearlyValid(rng, dense) as any);
        else model.setParam(['W_aa', 'weight_ih_l0', 'head.bias', 'nope'][rng.int(4)], junk(rng) as any);
        ok++;
      } catch (e) {
        thrown++;
        assert.ok(e instanceof TypeError || e instanceof RangeError, `call ${i}: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
        assert.ok((e as Error).message.length > 10, `call ${i}: a message that says something`);
        checkSame(`call ${i}: weights unchanged after the error`, model.getWeights(), weights);
      }
    }
    assert.ok(thrown > 500 && ok > 20, `thrown ${thrown}, succeeded ${ok}`);
    const batch = dense ? { x: [[[0.1, 0.2, 0.3]]], y: [[1]] } : { x: [[0, 1, 2]], y: [[1, 2, 3]] };
    const before = model.forward(batch as any).loss!;
    for (let i = 0; i < 30; i++) model.trainStep(batch as any, { learningRate: 0.05 });
    assert.ok(model.forward(batch as any).loss! < before, 'still trains');
    model.dispose();
  });
}

test.run();
