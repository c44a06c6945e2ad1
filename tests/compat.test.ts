// Files written by earlier versions of rnn-wasm still load: every key their configs hold is
// one the unknown-key check accepts, and the weights come back bit for bit. The files were
// written by tests/fixtures/make_old_files.mjs with builds of four earlier commits.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeSafetensors, loadModel, loadRNN } from '../dist/index.js';

const dir = join(__dirname, 'fixtures', 'old_files');
const files = readdirSync(dir).filter((f) => f.endsWith('.safetensors')).sort();

test('the fixtures cover the first save(), dropout, the five architectures and attention', () => {
  assert.ok(files.length >= 20, `${files.length} files`);
  for (const tag of ['9f2c13e', '04ee737', '7072e92', '6480952']) assert.ok(files.some((f) => f.startsWith(tag)), tag);
  assert.ok(files.includes('6480952-encoder-decoder-attention.safetensors'));
});

for (const f of files) {
  test(`${f} loads with loadModel${/-(rnn|lstm-bi|gru-dropout|many-to-many)\./.test(f) ? ' and loadRNN' : ''}, weights bit for bit`, async () => {
    const bytes = new Uint8Array(readFileSync(join(dir, f)));
    const tensors = decodeSafetensors(bytes).tensors;
    const loaders = /-(rnn|lstm-bi|gru-dropout|many-to-many)\./.test(f) ? [loadModel, loadRNN] : [loadModel];
    for (const load of loaders) {
      const model = await load(bytes);
      for (const [name, t] of tensors) assert.equal(model.getParam(name), t.data, `${load.name}: ${name}`);
      assert.equal(decodeSafetensors(model.save()).tensors.size, tensors.size, 'saves the same tensors');
      model.dispose();
    }
  });
}

test.run();
