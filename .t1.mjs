import { createModel, toONNX, loadONNX } from './dist/index.js';
import * as ort from 'onnxruntime-web';
ort.env.wasm.numThreads = 1;
for (const arch of ['many-to-many', 'many-to-one', 'one-to-one']) {
  const m = await createModel({ architecture: arch, cell: 'lstm', input: 'tokens', n_x: 6, n_a: 4, n_y: 6, embedding: 4, tieWeights: true, seed: 1 });
  const bytes = toONNX(m);
  const s = await ort.InferenceSession.create(bytes);
  const x = arch === 'one-to-one' ? [1, 5] : [[1, 2, 3], [4, 5, 0]];
  const feeds = arch === 'one-to-one' ? { x: new ort.Tensor('int64', BigInt64Array.from(x.flat(), BigInt), [2]) } : { x: new ort.Tensor('int64', BigInt64Array.from(x.flat(), BigInt), [2, 3]), lengths: new ort.Tensor('int32', Int32Array.of(3, 3), [2]) };
  const out = await s.run(feeds);
  const f = m.forward({ x }).yhat;
  console.log(arch, bytes.length, Math.max(...Array.from(out.yhat.data, (v, i) => Math.abs(v - f[i]))));
  const back = await loadONNX(bytes);
  console.log(JSON.stringify(back.toJSON()) === JSON.stringify(m.toJSON()), back.getWeights().every((w, i) => w === m.getWeights()[i]));
}
