// The package as a user gets it: `npm pack`, then the tarball installed in a scratch project
// (from the local npm cache, no network beyond what installing this repository fetched).
// What it holds, that installing runs no scripts, ESM import and require() (the same module
// either way; under --no-experimental-require-module an error that says to use import()),
// TypeScript consumers under strict with moduleResolution node16 and bundler and no DOM or
// Node types, source maps that point at shipped files, and `npx rnn-wasm`.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const root = join(__dirname, '..');
const scratch = mkdtempSync(join(tmpdir(), 'rnn-wasm-package-'));
const app = join(scratch, 'app');
const installed = join(app, 'node_modules', 'rnn-wasm');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const env = { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };

/** Run a command in the scratch project: exit code and output. */
function run(command: string, args: string[], cwd = app): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(command, args, { cwd, env, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const node = (args: string[]) => run(process.execPath, args);

let files: string[] = [];

const Pack = suite('npm pack and install');

Pack.before(() => {
  // dist/ is built by `npm test`'s pretest; prepack would build it again
  const out = execFileSync(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', scratch], { cwd: root, env, encoding: 'utf8' });
  const [packed] = JSON.parse(out) as { filename: string; files: { path: string }[] }[];
  files = packed.files.map((f) => f.path);
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
  const install = run(npm, ['install', join(scratch, packed.filename), '--prefer-offline', '--no-audit', '--no-fund']);
  if (install.code !== 0) throw new Error(`npm install of the tarball failed:\n${install.stdout}\n${install.stderr}`);
  (Pack as unknown as { install: string }).install = install.stdout + install.stderr;
});

Pack('the tarball holds the build, its sources, the CommonJS entries, the command, the license; nothing else', () => {
  for (const f of ['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/node.js', 'dist/browser.js',
    'dist/cli/main.js', 'cjs/index.cjs', 'cjs/node.cjs', 'bin/rnn-wasm.js', 'src/index.ts', 'src/wasm/modules.ts']) {
    assert.ok(files.includes(f), `${f} is in the package`);
  }
  const stray = files.filter((f) => !/^(dist|src|cjs|bin)\//.test(f) && !['LICENSE', 'README.md', 'package.json'].includes(f));
  assert.equal(stray, [], 'only dist/, src/, cjs/, bin/ and the three top files');
  // every source map names files that are in the package (so a stack trace can be followed)
  for (const map of files.filter((f) => f.endsWith('.map'))) {
    const { sources } = JSON.parse(readFileSync(join(installed, map), 'utf8')) as { sources: string[] };
    for (const s of sources) {
      const target = resolve(dirname(join('/', map)), s).slice(1);
      assert.ok(files.includes(target), `${map} points at ${target}, which the package ships`);
    }
  }
  assert.match(readFileSync(join(installed, 'LICENSE'), 'utf8'), /^MIT License/);
});

Pack('package.json names the repository, home page and issue tracker, and has no install-time scripts', () => {
  const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
  assert.equal(pkg.repository, { type: 'git', url: 'git+https://github.com/rnn-wasm/rnn-wasm.git' });
  assert.is(pkg.homepage, 'https://github.com/rnn-wasm/rnn-wasm#readme');
  assert.equal(pkg.bugs, { url: 'https://github.com/rnn-wasm/rnn-wasm/issues' });
  for (const s of ['preinstall', 'install', 'postinstall', 'prepare']) assert.is(pkg.scripts?.[s], undefined, `no "${s}" script`);
  const log = (Pack as unknown as { install: string }).install;
  assert.not.match(log, /install-scripts|prepare/i, `npm install said nothing about scripts:\n${log}`);
  assert.equal(Object.keys(pkg.dependencies), ['@assemblyscript/loader']);
});

Pack('import works, from the installed package, for the main entry and rnn-wasm/node', () => {
  const r = node(['--input-type=module', '-e', `
    import { createRNN, CharTokenizer } from 'rnn-wasm';
    import { saveModel } from 'rnn-wasm/node';
    const t = CharTokenizer.fromText('abc');
    const m = await createRNN({ n_x: t.size, n_a: 8, n_y: t.size, input: 'tokens', seed: 1 });
    const { loss } = m.trainStep({ x: [t.encode('abca')], y: [t.encode('bcab')] });
    await saveModel(m, 'model.safetensors');
    console.log(JSON.stringify({ loss, resolved: import.meta.resolve('rnn-wasm') }));`]);
  assert.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.ok(out.loss > 0);
  assert.ok(out.resolved.endsWith('/app/node_modules/rnn-wasm/dist/index.js'), out.resolved);
});

Pack('require() gives the same module as import (Node ≥ 20.19); without require(esm) it says to use import()', () => {
  const r = node(['-e', `
    const lib = require('rnn-wasm');
    const { saveCheckpoint } = require('rnn-wasm/node');
    import('rnn-wasm').then(async (esm) => {
      const m = await lib.createRNN({ n_x: 3, n_a: 4, n_y: 3, input: 'tokens', seed: 2 });
      console.log(JSON.stringify({ same: esm === lib, node: typeof saveCheckpoint, params: m.numParams }));
    });`]);
  assert.is(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout), { same: true, node: 'function', params: 4 * 3 + 4 * 4 + 4 + 4 + 3 * 4 + 3 });
  assert.is(r.stderr, '', 'no warning');
  const off = node(['--no-experimental-require-module', '-e', `require('rnn-wasm')`]);
  assert.is.not(off.code, 0);
  assert.match(off.stderr, /rnn-wasm is an ES module, and this Node\.js \(v[\d.]+\) cannot require\(\) it/);
  assert.match(off.stderr, "Load it with import() instead: const lib = await import('rnn-wasm');");
});

Pack('TypeScript consumers compile under strict, moduleResolution node16 and bundler, without DOM or Node types', async () => {
  writeFileSync(join(app, 'consumer.ts'), `
    import { createModel, createRNN, CharTokenizer, loadModel, modelToBlob, listSaved, type FitOptions, type Model } from 'rnn-wasm';
    const t = CharTokenizer.fromText('abc');
    const rnn = await createRNN({ n_x: t.size, n_a: 8, n_y: t.size, input: 'tokens', output: 'softmax' });
    const options: FitOptions = { epochs: 1, signal: { aborted: false } };
    const fitted: number[] = (await rnn.fit({ x: [t.encode('abc')], y: [t.encode('bca')] }, options)).epochLosses;
    const reg = await createModel({ architecture: 'many-to-many', n_x: 2, n_a: 4, n_y: 3, input: 'dense', output: 'linear' });
    reg.trainStep({ x: [[[0, 1], [1, 0]]], y: [[[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]] });
    reg.trainStep({ x: [[[0, 1]]], y: [Float32Array.of(0.1, 0.2, 0.3)] });
    // @ts-expect-error class ids are the targets of a softmax output, not of a linear one
    reg.trainStep({ x: [[[0, 1], [1, 0]]], y: [[0, 2]] });
    const size: number = modelToBlob(rnn).size;
    const loaded: Model = await loadModel(rnn.save());
    const names: string[] = (await listSaved().catch(() => [])).map((s) => s.name);
    export { fitted, size, loaded, names };
  `);
  writeFileSync(join(app, 'consumer-node.ts'), `
    import { createRNN } from 'rnn-wasm';
    import { saveCheckpoint } from 'rnn-wasm/node';
    await saveCheckpoint(await createRNN({ n_x: 2, n_a: 2, n_y: 2 }), 'x.ckpt');
  `);
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const strict = { strict: true, noEmit: true, target: 'es2022', lib: ['es2022'], types: [], skipLibCheck: false, skipDefaultLibCheck: true };
  const configs: [string, object, string][] = [
    ['node16', { module: 'node16', moduleResolution: 'node16' }, 'consumer.ts'],
    ['bundler', { module: 'esnext', moduleResolution: 'bundler' }, 'consumer.ts'],
    ['node-types', { module: 'node16', moduleResolution: 'node16', types: ['node'], typeRoots: [join(root, 'node_modules', '@types')] }, 'consumer-node.ts'],
  ];
  // the three compilations at once (each takes seconds)
  const results = await Promise.all(configs.map(([name, options, file]) => {
    writeFileSync(join(app, `tsconfig.${name}.json`), JSON.stringify({ compilerOptions: { ...strict, ...options }, files: [file] }));
    return new Promise<string>((done) => {
      execFile(process.execPath, [tsc, '-p', `tsconfig.${name}.json`], { cwd: app, env }, (e, stdout, stderr) => done(e ? `tsc (${name}) failed:\n${stdout}${stderr}` : ''));
    });
  }));
  assert.equal(results.filter(Boolean), []);
});

Pack('a stack trace with --enable-source-maps points at a shipped TypeScript file', () => {
  const r = node(['--enable-source-maps', '--input-type=module', '-e', `
    import { createRNN } from 'rnn-wasm';
    await createRNN({ n_x: 0, n_a: 1, n_y: 1 });`]);
  assert.is.not(r.code, 0);
  assert.match(r.stderr, /RangeError: createRNN: n_x must be an integer ≥ 1, got 0/);
  const frame = /\((\/[^()]+\/node_modules\/rnn-wasm\/src\/[\w/]+\.ts):\d+:\d+\)/.exec(r.stderr);
  assert.ok(frame, `a frame in the package's src/:\n${r.stderr}`);
  assert.ok(existsSync(frame![1]), `${frame![1]} exists`);
});

Pack('npx rnn-wasm runs the installed command', () => {
  const help = run('npx', ['--offline', 'rnn-wasm', '--help']);
  assert.is(help.code, 0, help.stderr);
  assert.match(help.stdout, 'usage: rnn-wasm COMMAND [arguments] [flags]');
  const info = run('npx', ['--offline', 'rnn-wasm', 'info', 'model.safetensors']);
  assert.is(info.code, 0, info.stderr);
  assert.match(info.stdout, /^architecture\s+many-to-many$/m);
});

Pack('the README\'s links work from the npm page: anchors of its own headings, or absolute URLs to files that exist', () => {
  const readme = readFileSync(join(installed, 'README.md'), 'utf8').replace(/```[\s\S]*?```/g, '');
  const slug = (h: string) => h.toLowerCase().replace(/[^\w\s-]/g, '').trim().replace(/\s+/g, '-');
  const anchors = new Set([...readme.matchAll(/^#+ (.+)$/gm)].map((m) => slug(m[1])));
  const repo = /^https:\/\/(?:github\.com\/rnn-wasm\/rnn-wasm\/(?:blob|tree)|raw\.githubusercontent\.com\/rnn-wasm\/rnn-wasm)\/main\/(.+)$/;
  const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]);
  assert.ok(links.length >= 8, `${links.length} links`);
  for (const link of links) {
    if (link.startsWith('#')) assert.ok(anchors.has(link.slice(1)), `${link} is a heading of the README`);
    else assert.match(link, /^https:\/\//, `${link} is absolute`);
    const file = repo.exec(link)?.[1];
    if (file) assert.ok(existsSync(join(root, file)), `${link}: ${file} exists in the repository`);
  }
});

Pack.after(() => rmSync(scratch, { recursive: true, force: true }));
Pack.run();
