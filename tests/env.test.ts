// Runs as in a browser: no Buffer, no fs, no fetch, no import.meta.url in the shipped code,
// and a model that trains in a process where Node's globals were removed first.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { autoBuild, wasmFlags } from './_utils.js';

const dist = join(__dirname, '..', 'dist');

test('the shipped code needs no Node built-ins, fetch, Buffer or import.meta', () => {
  // dist/node.js is rnn-wasm/node and dist/cli/ the rnn-wasm command, both Node-only: the rest
  // must not import them (cli/curve.js and cli/windows.js serve the demo page too, and are checked)
  const nodeOnly = (f: string) => f === 'node.js' || (f.startsWith('cli/') && !['cli/curve.js', 'cli/windows.js'].includes(f));
  const files = readdirSync(dist, { recursive: true }).map(String).filter((f) => f.endsWith('.js') && !nodeOnly(f));
  assert.ok(files.length >= 8, `found ${files.length} files`);
  for (const f of files) {
    const code = readFileSync(join(dist, f), 'utf8');
    for (const banned of [/from ['"]\.\/node\.js['"]/, /from ['"][./]*cli\/(?!curve|windows)/, /from ['"]node:/, /\brequire\(/, /\bBuffer\b/, /\bfetch\(/, /import\.meta/, /from ['"](fs|path|url)['"]/]) {
      assert.not.match(code, banned, `${f} uses ${banned}`);
    }
  }
});

test('a model trains with Buffer, process and fetch removed from the global scope', () => {
  const script = `
    // Node's own lazily-loaded internals (its fetch, used by WebAssembly.compile) need Buffer:
    // load them first, then take the globals away from everything that runs after
    void globalThis.fetch; void globalThis.Response;
    delete globalThis.Buffer; delete globalThis.fetch;
    const { createRNN } = await import(${JSON.stringify(join(dist, 'index.js'))});
    const write = globalThis.process.stdout.write.bind(globalThis.process.stdout);
    globalThis.process = undefined;
    const m = await createRNN({ n_x: 4, n_a: 8, n_y: 4, input: 'tokens', seed: 1 });
    const batch = { x: [[0, 1, 2, 3]], y: [[1, 2, 3, 0]] };
    const first = m.trainStep(batch).loss;
    for (let i = 0; i < 50; i++) m.trainStep(batch, { learningRate: 0.05 });
    write(JSON.stringify({ first, last: m.forward(batch).loss, backend: m.backend }));
  `;
  const out = JSON.parse(execFileSync(process.execPath, [...wasmFlags, '--input-type=module', '-e', script], { encoding: 'utf8' }));
  assert.is(out.backend, autoBuild());
  assert.ok(out.last < out.first / 4, `loss ${out.first} → ${out.last}`);
});

test.run();
