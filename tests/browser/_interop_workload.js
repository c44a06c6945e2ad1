// The import and export paths in a browser (page or module worker), on the committed
// fixtures: a Keras file from tf.keras (loadKerasModel), an ONNX file from torch.onnx.export
// (loadONNX), and toONNX → loadONNX. Returns plain arrays for the test to compare with PyTorch.
export async function interopWorkload(lib, base) {
  const bytes = async (path) => new Uint8Array(await (await fetch(base + path)).arrayBuffer());
  const json = async (path) => (await fetch(base + path)).json();
  const steps = (c) => {
    const [B, T, F] = c.shape;
    return Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => c.x.slice((b * T + t) * F, (b * T + t + 1) * F)));
  };

  const kerasCase = (await json('fixtures/keras.json')).cases.find((c) => c.name === 'keras2_bidirectional_gru');
  const manifest = await json(`fixtures/${kerasCase.dir}/model.json`);
  const files = {};
  for (const path of manifest.weightsManifest.flatMap((g) => g.paths)) files[path] = await bytes(`fixtures/${kerasCase.dir}/${path}`);
  const keras = await lib.loadKerasModel(manifest, files);
  const kerasOut = Array.from(keras.forward({ x: steps(kerasCase) }).yhat);
  keras.dispose();

  const onnxCase = (await json('fixtures/onnx.json')).cases.find((c) => c.name === 'gru_2layer_bi_h_softmax');
  const torch = await lib.loadONNX(await bytes(`fixtures/${onnxCase.file}`));
  const onnxOut = Array.from(torch.forward({ x: steps(onnxCase) }).yhat);
  torch.dispose();

  const model = await lib.createModel({ architecture: 'many-to-many', cell: 'lstm', n_x: 3, n_a: 4, n_y: 2, layers: 2, bidirectional: true, seed: 3 });
  const back = await lib.loadONNX(lib.toONNX(model));
  const w = model.getWeights(), v = back.getWeights();
  const roundTrip = w.length === v.length && w.every((x, i) => Object.is(x, v[i]));
  model.dispose();
  back.dispose();
  return { keras: kerasOut, kerasWant: kerasCase.y, onnx: onnxOut, onnxWant: onnxCase.y, roundTrip };
}
