// Bundlers: rnn-wasm bundled for the browser by esbuild into one self-contained file (the wasm
// is inside, the loader resolved) runs and trains, outside this repository's node_modules.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { autoBuild } from './_utils.js';
import { buildSync } from 'esbuild';

test('an esbuild browser bundle is self-contained and trains', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rnn-wasm-bundle-'));
  try {
    const entry = join(dir, 'entry.js');
    writeFileSync(entry, `
      import { createModel } from ${JSON.stringify(join(__dirname, '..', 'dist', 'index.js'))};
      const m = await createModel({ architecture: 'many-to-one', cell: 'gru', input: 'tokens', n_x: 4, n_a: 8, n_y: 2, seed: 1 });
      const batch = { x: [[0, 1, 2], [3, 2], [1]], y: [0, 1, 1] };
      const first = m.trainStep(batch, { learningRate: 0.05 }).loss;
      for (let i = 0; i < 40; i++) m.trainStep(batch, { learningRate: 0.05 });
      globalThis.__result = { first, last: m.evaluate(batch).loss, backend: m.backend };
    `);
    const out = join(dir, 'bundle.js');
    buildSync({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', outfile: out, logLevel: 'silent' });
    const code = readFileSync(out, 'utf8');
    assert.not.match(code, /from ['"]/, 'no imports left in the bundle');
    assert.not.match(code, /require\(/, 'no require in the bundle');
    // run it from the temporary folder, where no node_modules can be found
    const run = join(dir, 'run.mjs');
    writeFileSync(run, `${code}\nprocess.stdout.write(JSON.stringify(globalThis.__result));`);
    const result = JSON.parse(execFileSync(process.execPath, [run], { cwd: dir, encoding: 'utf8' }));
    assert.is(result.backend, autoBuild());
    assert.ok(result.last < result.first / 2, `loss ${result.first} → ${result.last}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
