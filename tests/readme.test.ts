// The README's usage examples run as written (with 'rnn-wasm' resolved to this build).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]).filter((code) => code.includes("from 'rnn-wasm'"));

test('the README has usage examples', () => {
  assert.ok(blocks.length >= 2, `found ${blocks.length}`);
});

blocks.forEach((code, i) => {
  test(`README example ${i + 1} runs and prints what its comments say`, () => {
    const script = code.replace("from 'rnn-wasm'", `from ${JSON.stringify(join(root, 'dist', 'index.js'))}`);
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' } });
    // every `//=> value` comment on a console.log line is what that line prints: a seed fixes
    // the run, so the numbers are exact
    const expected = [...code.matchAll(/console\.log\(.*\/\/=> (.*)$/gm)].map((m) => m[1]);
    assert.equal(out.trim().split('\n'), expected, out);
  });
});

test.run();
