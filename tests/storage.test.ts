// Models in the browser's storage (src/browser.ts): in Chromium, models saved in IndexedDB by a
// page are listed and loaded back with equal weights, config and tokenizer, by the page and by
// a worker; Blobs, downloads and uploaded Files round-trip. In Node, Blobs work and the
// IndexedDB functions fail with an error that says where to save instead; over a small
// in-memory IndexedDB, every error names the function called (loadFromIndexedDB, not loadModel).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import {
  CharTokenizer, createModel, deleteSaved, downloadModel, listSaved, loadFromBlob, loadFromIndexedDB, modelToBlob, SafetensorsError,
  saveToIndexedDB,
} from '../dist/index.js';
import { chromiumMissing, startBrowser, watch } from './_chromium';
import { checkSame, rejectsWith, throwsWith } from './_utils.js';

const tokenizer = CharTokenizer.fromText('abcdefgh ');
const config = {
  architecture: 'many-to-many', cell: 'lstm', n_x: tokenizer.size, n_a: 12, n_y: tokenizer.size, layers: 2,
  input: 'tokens', output: 'softmax', seed: 3, tokenizers: { x: tokenizer, y: tokenizer },
} as const;

// ---
const Node = suite('in Node');

Node('a model round-trips through modelToBlob and loadFromBlob (from the model or its bytes)', async () => {
  const model = await createModel(config);
  for (const blob of [modelToBlob(model), modelToBlob(model.save())]) {
    assert.is(blob.type, 'application/octet-stream');
    const back = await loadFromBlob(blob, { architecture: 'many-to-many' });
    checkSame('weights', back.getWeights(), model.getWeights());
    assert.equal(back.toJSON(), model.toJSON());
    back.dispose();
  }
  model.dispose();
});

Node('the IndexedDB functions say IndexedDB is missing and where to save instead; bad arguments are refused first', async () => {
  const model = await createModel(config);
  const missing = /IndexedDB is not available in this environment .*saveModel from 'rnn-wasm\/node'/;
  await rejectsWith(saveToIndexedDB(model, 'm'), Error, new RegExp(`^saveToIndexedDB: ${missing.source}`));
  await rejectsWith(loadFromIndexedDB('m'), Error, new RegExp(`^loadFromIndexedDB: ${missing.source}`));
  await rejectsWith(listSaved(), Error, new RegExp(`^listSaved: ${missing.source}`));
  await rejectsWith(deleteSaved('m'), Error, new RegExp(`^deleteSaved: ${missing.source}`));
  await rejectsWith(saveToIndexedDB({} as never, 'm'), TypeError, /^saveToIndexedDB: model must be a model from createRNN, createModel or loadModel, got object/);
  await rejectsWith(saveToIndexedDB(model, 7 as never), TypeError, /^saveToIndexedDB: name must be a string, got 7/);
  await rejectsWith(saveToIndexedDB(model, ''), RangeError, /^saveToIndexedDB: name must be 1 to 1000 characters long, got 0/);
  await rejectsWith(listSaved({ database: '' }), TypeError, /^listSaved: options.database must be a non-empty string, got ""/);
  await rejectsWith(loadFromBlob('bytes' as never), TypeError, /^loadFromBlob: blob must be a Blob or File, got "bytes"/);
  throwsWith(() => modelToBlob([1, 2] as never), TypeError, /^modelToBlob: model must be a model or the bytes of its file \(a Uint8Array\), got an array of length 2/);
  throwsWith(() => downloadModel(model), Error, /^downloadModel: needs a page \(document and URL.createObjectURL\)/);
  model.dispose();
  await rejectsWith(saveToIndexedDB(model, 'm'), TypeError, /^saveToIndexedDB: the model was disposed/);
});

/** As much of IndexedDB as src/browser.ts uses, in memory: open (upgrading a new database),
 *  one transaction over both stores that completes after its requests, and put / get / getAll /
 *  count / delete. Values are stored as structured clones, as IndexedDB does. */
function fakeIndexedDB() {
  const databases = new Map<string, Map<string, Map<string, unknown>>>();
  const later = (f: () => void) => setTimeout(f, 0);
  const done = (result: unknown) => ({ result });
  return {
    databases,
    open(name: string) {
      const request: Record<string, any> = {};
      later(() => {
        const fresh = !databases.has(name);
        if (fresh) databases.set(name, new Map());
        const stores = databases.get(name)!;
        request.result = {
          objectStoreNames: { contains: (store: string) => stores.has(store) },
          createObjectStore: (store: string) => stores.set(store, new Map()),
          close() {},
          transaction() {
            const tx: Record<string, any> = {
              objectStore: (store: string) => {
                const m = stores.get(store)!;
                return {
                  put: (v: unknown, k: string) => { m.set(k, structuredClone(v)); return done(k); },
                  get: (k: string) => done(structuredClone(m.get(k))),
                  getAll: () => done([...m.values()].map((v) => structuredClone(v))),
                  count: (k: string) => done(m.has(k) ? 1 : 0),
                  delete: (k: string) => { m.delete(k); return done(undefined); },
                };
              },
            };
            later(() => tx.oncomplete());
            return tx;
          },
        };
        if (fresh) request.onupgradeneeded();
        request.onsuccess();
      });
      return request;
    },
  };
}

Node('over IndexedDB, errors name the function called: loadFromIndexedDB and loadFromBlob, not loadModel', async () => {
  const idb = fakeIndexedDB();
  (globalThis as { indexedDB?: unknown }).indexedDB = idb;
  try {
    const model = await createModel(config);
    await saveToIndexedDB(model, 'chars');
    const back = await loadFromIndexedDB('chars', { architecture: 'many-to-many' });
    checkSame('weights', back.getWeights(), model.getWeights());
    back.dispose();
    await rejectsWith(loadFromIndexedDB('chars', { architecture: 'one-to-one' }), TypeError,
      /^loadFromIndexedDB: the file holds a 'many-to-many' model, expected 'one-to-one'$/);
    // a name saved nowhere is that error whatever the load options (they are not listSaved's)
    for (const options of [{}, { architecture: 'many-to-many' }, { backend: 'simd', database: 'rnn-wasm' }] as const) {
      await rejectsWith(loadFromIndexedDB('nothing', options), RangeError, /^loadFromIndexedDB: no model is saved under "nothing"; saved: "chars"$/);
    }
    await rejectsWith(loadFromIndexedDB('chars', { architecture: 'one-to-two' as never }), TypeError,
      /^loadFromIndexedDB: options.architecture must be one of 'one-to-one', .*, got "one-to-two"/);
    await rejectsWith(loadFromIndexedDB('chars', { backend: 'gpu' as never }), TypeError, /^loadFromIndexedDB: options.backend must be/);
    // a misspelt option is refused, not ignored (which would read or write another database)
    // @ts-expect-error: architecure is no option
    await rejectsWith(loadFromIndexedDB('chars', { architecure: 'one-to-one' }), TypeError,
      /^loadFromIndexedDB: options has no field "architecure"; did you mean architecture\?$/);
    // @ts-expect-error: databse is no option
    await rejectsWith(saveToIndexedDB(model, 'chars', { databse: 'x' }), TypeError, /^saveToIndexedDB: options has no field "databse"; did you mean database\?$/);
    // @ts-expect-error: backend is loadFromIndexedDB's option, not listSaved's
    await rejectsWith(listSaved({ backend: 'auto' }), TypeError, /^listSaved: options has no field "backend"; it takes database$/);
    // what is saved under a name is checked as loadModel checks a file, under the caller's name
    const files = idb.databases.get('rnn-wasm')!.get('files')!;
    files.set('cut', (files.get('chars') as Uint8Array).slice(0, 100));
    await rejectsWith(loadFromIndexedDB('cut'), SafetensorsError as unknown as ErrorConstructor, /^loadFromIndexedDB: safetensors: the header length \d+ goes past the end of the 100-byte file/);
    files.set('text', 'not a model');
    await rejectsWith(loadFromIndexedDB('text'), TypeError, /^loadFromIndexedDB: the entry saved under "text" is not a model file \(a Uint8Array\), got "not a model"$/);
    await rejectsWith(loadFromBlob(modelToBlob(model), { architecture: 'one-to-one' }), TypeError,
      /^loadFromBlob: the file holds a 'many-to-many' model, expected 'one-to-one'$/);
    // @ts-expect-error: database is no option of loadFromBlob
    await rejectsWith(loadFromBlob(modelToBlob(model), { database: 'x' }), TypeError, /^loadFromBlob: options has no field "database"/);
    assert.equal((await listSaved()).map((s) => s.name), ['chars']);
    model.dispose();
  } finally {
    delete (globalThis as { indexedDB?: unknown }).indexedDB;
  }
});

Node.run();

// ---
const Browser = suite('in Chromium');
/** import() of the package, inside page.evaluate: written as a string, which the compiler
 *  that runs these tests leaves alone (it would turn import() into require()). */
const IMPORT = 'return import(path)';
const reason = chromiumMissing();

if (reason && !process.env.CI) {
  console.log(`storage.test.ts: the Chromium tests were not run: ${reason}`);
} else if (reason) {
  Browser('Chromium is available (required under CI)', () => assert.unreachable(`the browser tests cannot run: ${reason}`));
} else {
  let chromium: Awaited<ReturnType<typeof startBrowser>>;
  Browser.before(async () => { chromium = await startBrowser(); });
  Browser.after(async () => { await chromium.close(); });

  Browser('a page saves, lists, loads and deletes models in IndexedDB; a worker loads and saves them too', async () => {
    const { browser, url } = chromium;
    const page = await browser.newPage();
    try {
      const problems = watch(page);
      await page.goto(url);
      const out = await page.evaluate(async ({ lib: path, config, importCode }) => {
        const lib = await new Function('path', importCode)(path);
        const tokenizer = lib.CharTokenizer.fromText('abcdefgh ');
        const a = await lib.createModel({ ...config, tokenizers: { x: tokenizer, y: tokenizer } });
        const b = await lib.createModel({ architecture: 'one-to-one', n_x: 3, n_a: 5, n_y: 2, seed: 9 });
        for (const m of await lib.listSaved()) await lib.deleteSaved(m.name);
        const infoA = await lib.saveToIndexedDB(a, 'chars');
        await lib.saveToIndexedDB(b, 'first draft');
        a.trainStep({ x: [tokenizer.encode('abc hgf')], y: [tokenizer.encode('bc hgfa')] }, { learningRate: 0.05 });
        await lib.saveToIndexedDB(a, 'chars');                       // replaces the first save
        const listed = await lib.listSaved();
        const loaded = await lib.loadFromIndexedDB('chars', { architecture: 'many-to-many' });
        const errors: string[] = [];
        for (const bad of [() => lib.loadFromIndexedDB('nothing'), () => lib.loadFromIndexedDB('chars', { architecture: 'one-to-one' })]) {
          await bad().then(() => errors.push('resolved'), (e: Error) => errors.push(`${e.name}: ${e.message}`));
        }
        // a module worker loads what the page saved, trains, and saves under another name
        const workerCode = `
          const lib = await import(${JSON.stringify(new URL(path, location.href).href)});
          const m = await lib.loadFromIndexedDB('chars');
          const w = Array.from(m.getWeights());
          const t = m.tokenizers.x;
          m.trainStep({ x: [t.encode('hhh')], y: [t.encode('ggg')] }, { learningRate: 0.05 });
          await lib.saveToIndexedDB(m, 'from worker');
          postMessage({ loaded: w, saved: Array.from(m.getWeights()), names: (await lib.listSaved()).map((s) => s.name) });`;
        const worker = new Worker(URL.createObjectURL(new Blob([workerCode], { type: 'text/javascript' })), { type: 'module' });
        const fromWorker = await new Promise<any>((resolve, reject) => {
          worker.onmessage = (e) => resolve(e.data);
          worker.onerror = (e) => reject(new Error(`worker: ${e.message}`));
        });
        worker.terminate();
        const workerSaved = await lib.loadFromIndexedDB('from worker');
        const deleted = [await lib.deleteSaved('first draft'), await lib.deleteSaved('first draft')];
        return {
          infoA, listed, errors, fromWorker, deleted, after: (await lib.listSaved()).map((s: { name: string }) => s.name),
          saved: Array.from(a.getWeights()) as number[], loaded: Array.from(loaded.getWeights()) as number[], workerSaved: Array.from(workerSaved.getWeights()) as number[],
          sameConfig: JSON.stringify(loaded.toJSON()) === JSON.stringify(a.toJSON()),
          decoded: loaded.tokenizers.x.decode(loaded.tokenizers.x.encode('bad cafe')),
        };
      }, { lib: '/rnn-wasm/index.js', config: { ...config, tokenizers: undefined }, importCode: IMPORT });
      assert.equal(problems, []);
      assert.equal(out.listed.map((s: { name: string }) => s.name), ['chars', 'first draft'], 'listed by name');
      const chars = out.listed[0];
      assert.equal([chars.architecture, chars.config.cell, chars.config.n_a, chars.config.tokenizers], ['many-to-many', 'lstm', 12, undefined]);
      assert.ok(chars.bytes > 4 * chars.numParams && chars.savedAt >= out.infoA.savedAt);
      checkSame('weights loaded by the page', out.loaded, out.saved);
      assert.ok(out.sameConfig, 'the same config');
      assert.is(out.decoded, 'bad cafe', 'the same tokenizer');
      assert.match(out.errors[0], /^RangeError: loadFromIndexedDB: no model is saved under "nothing"; saved: "chars", "first draft"/);
      assert.match(out.errors[1], /^TypeError: loadFromIndexedDB: the file holds a 'many-to-many' model, expected 'one-to-one'/);
      checkSame('weights loaded by the worker', out.fromWorker.loaded, out.saved);
      checkSame('weights the worker saved, loaded by the page', out.workerSaved, out.fromWorker.saved);
      assert.equal(out.fromWorker.names, ['chars', 'first draft', 'from worker']);
      assert.equal(out.deleted, [true, false]);
      assert.equal(out.after, ['chars', 'from worker']);
    } finally {
      await page.close();
    }
  });

  Browser('downloadModel offers the model file; an uploaded File loads with loadFromBlob', async () => {
    const { browser, url } = chromium;
    const page = await browser.newPage({ acceptDownloads: true });
    try {
      const problems = watch(page);
      await page.goto(url);
      await page.evaluate(async ({ path, importCode }) => {
        const lib = await new Function('path', importCode)(path);
        const model = await lib.createModel({ architecture: 'many-to-one', cell: 'gru', n_x: 4, n_a: 6, n_y: 3, seed: 5 });
        (window as any).saved = Array.from(model.save());
        (window as any).weights = Array.from(model.getWeights());
        (window as any).download = () => lib.downloadModel(model, 'waves.safetensors');
        (window as any).lib = lib;
      }, { path: '/rnn-wasm/index.js', importCode: IMPORT });
      const [download] = await Promise.all([page.waitForEvent('download'), page.evaluate(() => (window as any).download())]);
      assert.is(download.suggestedFilename(), 'waves.safetensors');
      const bytes = readFileSync((await download.path())!);
      assert.equal(Array.from(bytes), await page.evaluate(() => (window as any).saved), 'the downloaded file is model.save()');
      const reloaded = await page.evaluate(async (file) => {
        const model = await (window as any).lib.loadFromBlob(new File([new Uint8Array(file)], 'waves.safetensors'));
        return { architecture: model.architecture as string, weights: Array.from(model.getWeights()) as number[] };
      }, Array.from(bytes));
      assert.is(reloaded.architecture, 'many-to-one');
      checkSame('weights from the uploaded file', reloaded.weights, await page.evaluate(() => (window as any).weights));
      assert.equal(problems, []);
    } finally {
      await page.close();
    }
  });
}

Browser.run();
