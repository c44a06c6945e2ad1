// Bundlers: rnn-wasm bundled for the browser by esbuild into one self-contained file (the wasm
// is inside, the loader resolved) runs and trains, outside this repository's node_modules; and
// such a bundle holds the kernels once: the embedded worker script carries none (its workers get
// them compiled from the calling thread).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { autoBuild, wasmFlags } from './_utils.js';
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
    const result = JSON.parse(execFileSync(process.execPath, [...wasmFlags, run], { cwd: dir, encoding: 'utf8' }));
    assert.is(result.backend, autoBuild());
    assert.ok(result.last < result.first / 2, `loss ${result.first} → ${result.last}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The wasm modules embedded in `code`: base64 of "\\0asm", the first bytes of each. */
const wasmModules = (code: string) => code.split('AGFzbQ').length - 1;

test('the embedded worker script holds no wasm, and a one-line app\'s minified bundle holds the three builds once', () => {
  const script = readFileSync(join(__dirname, '..', 'dist', 'workers', 'script.js'), 'utf8');
  assert.is(wasmModules(script), 0, 'wasm modules in dist/workers/script.js');
  const dir = mkdtempSync(join(tmpdir(), 'rnn-wasm-bundle-'));
  try {
    const entry = join(dir, 'entry.js');
    writeFileSync(entry, `import { createRNN } from ${JSON.stringify(join(__dirname, '..', 'dist', 'index.js'))};
      createRNN({ n_x: 3, n_a: 4, n_y: 2 }).then((m) => console.log(m.numParams));`);
    const code = buildSync({ entryPoints: [entry], bundle: true, minify: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent' })
      .outputFiles[0].text;
    assert.is(wasmModules(code), 3, 'wasm modules in the bundle: release, relaxed and scalar, once each');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
