// Keras files as tensorflowjs_converter writes them from tf.keras 2 (Sequential, a GRU with
// reset_after=True, Bidirectional) and Keras 3 (functional, keras_history inbound nodes),
// made by tests/fixtures/make_keras.py from PyTorch modules: read from disk with
// rnn-wasm/node's loadKerasModelFile, they give PyTorch's outputs within 1e-5.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKerasModelFile } from '../dist/node.js';
import { rejectsWith } from './_utils.js';

const fixtures = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'keras.json'), 'utf8'));

const Files = suite('Keras files from tf.keras 2 and Keras 3 match PyTorch');

for (const c of fixtures.cases) {
  Files(`${c.name} → ${c.architecture}`, async () => {
    const dir = join(__dirname, 'fixtures', c.dir);
    for (const path of [dir, join(dir, 'model.json')]) {
      const model = await loadKerasModelFile(path);
      try {
        assert.is(model.architecture, c.architecture);
        const [B, T, F] = c.shape;
        const x = Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => c.x.slice((b * T + t) * F, (b * T + t + 1) * F)));
        const { yhat } = (model as any).forward({ x });
        assert.is(yhat.length, c.y.length);
        for (let i = 0; i < c.y.length; i++) {
          if (!(Math.abs(yhat[i] - c.y[i]) <= 1e-5)) assert.unreachable(`y[${i}]: rnn-wasm ${yhat[i]}, PyTorch ${c.y[i]}`);
        }
      } finally {
        model.dispose();
      }
    }
  });
}

Files('GRU reset_after=True loads with both biases: bias[0] → bias_ih, bias[1] → bias_hh', async () => {
  const model = await loadKerasModelFile(join(__dirname, 'fixtures', 'keras', 'keras2_bidirectional_gru'));
  assert.is((model.config as any).resetAfter, true);
  assert.ok(model.getParam('bias_hh_l1_reverse').some((v) => v !== 0), 'the recurrent bias is loaded');
  model.dispose();
});

Files('weight files outside the folder, and missing files, are refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rnn-wasm-keras-'));
  const src = join(__dirname, 'fixtures', 'keras', 'keras3_functional_lstm');
  const json = JSON.parse(readFileSync(join(src, 'model.json'), 'utf8'));
  json.weightsManifest[0].paths = ['../group1-shard1of1.bin'];
  mkdirSync(join(dir, 'm'));
  writeFileSync(join(dir, 'm', 'model.json'), JSON.stringify(json));
  await rejectsWith(loadKerasModelFile(join(dir, 'm')), TypeError, /names weight file "..\/group1-shard1of1.bin", outside its folder/);
  json.weightsManifest[0].paths = ['missing.bin'];
  writeFileSync(join(dir, 'm', 'model.json'), JSON.stringify(json));
  try {
    await loadKerasModelFile(join(dir, 'm'));
    assert.unreachable('a missing weight file loads');
  } catch (e) {
    assert.match((e as Error).message, /^loadKerasModelFile: cannot read .*missing\.bin/);
    assert.is((e as { code?: string }).code, 'ENOENT');
  }
});

Files.run();
