// The PyTorch hand-off example: a state_dict trained by examples/pytorch/train_torch.py
// (committed as austen-lstm.safetensors) loads in rnn-wasm, reproduces PyTorch's loss,
// fine-tunes, and round-trips through save().
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

test('examples/pytorch/finetune.js: same loss as PyTorch, lower loss after fine-tuning, identical round trip', () => {
  const out = execFileSync(process.execPath, [join(__dirname, '..', 'examples', 'pytorch', 'finetune.js')], { encoding: 'utf8' });
  const same = out.match(/rnn-wasm (\d+\.\d+), PyTorch (\d+\.\d+)/);
  assert.ok(same, out);
  assert.ok(Math.abs(Number(same![1]) - Number(same![2])) < 1e-4, same![0]);
  const tuned = out.match(/loss (\d+\.\d+) → (\d+\.\d+)/);
  assert.ok(tuned && Number(tuned[2]) < Number(tuned[1]), tuned?.[0]);
  assert.match(out, /save → load round trip: identical/);
});

test.run();
