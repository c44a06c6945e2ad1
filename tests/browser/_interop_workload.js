// The import and export paths in a browser (page or module worker), on the committed
// fixtures: Keras files from tf.keras (loadKerasModel), ONNX files from torch.onnx.export
// (loadONNX), each with and without an embedding, and toONNX → loadONNX of a dense model and of
// one with a tied embedding. Returns plain arrays for the test to compare with PyTorch.
export async function interopWorkload(lib, base) {
  const bytes = async (path) => new Uint8Array(await (await fetch(base + path)).arrayBuffer());
  const json = async (path) => (await fetch(base + path)).json();
  const steps = (c) => {
    const [B, T, F = 1] = c.shape;
    const step = (b, t) => (c.tokens ? c.x[b * T + t] : c.x.slice((b * T + t) * F, (b * T + t + 1) * F));
    return Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => step(b, t)));
  };
  const outputs = async (label, c, model) => {
    const got = Array.from(model.forward({ x: steps(c) }).yhat);
    model.dispose();
    return { label, got, want: c.y };
  };

  const cases = [];
  const kerasCases = (await json('fixtures/keras.json')).cases;
  for (const name of ['keras2_bidirectional_gru', 'keras2_embedding_gru']) {
    const c = kerasCases.find((k) => k.name === name);
    const manifest = await json(`fixtures/${c.dir}/model.json`);
    const files = {};
    for (const path of manifest.weightsManifest.flatMap((g) => g.paths)) files[path] = await bytes(`fixtures/${c.dir}/${path}`);
    cases.push(await outputs(`Keras file ${name}`, c, await lib.loadKerasModel(manifest, files)));
  }
  const onnxCases = (await json('fixtures/onnx.json')).cases;
  for (const name of ['gru_2layer_bi_h_softmax', 'embedding_gru_tied_steps_softmax']) {
    const c = onnxCases.find((k) => k.name === name);
    cases.push(await outputs(`ONNX file ${name}`, c, await lib.loadONNX(await bytes(`fixtures/${c.file}`))));
  }

  let roundTrip = true;
  for (const config of [
    { architecture: 'many-to-many', cell: 'lstm', n_x: 3, n_a: 4, n_y: 2, layers: 2, bidirectional: true, seed: 3 },
    { architecture: 'many-to-one', cell: 'gru', input: 'tokens', n_x: 6, n_a: 4, n_y: 6, embedding: 4, tieWeights: true, seed: 4 },
  ]) {
    const model = await lib.createModel(config);
    const back = await lib.loadONNX(lib.toONNX(model));
    const w = model.getWeights(), v = back.getWeights();
    roundTrip &&= w.length === v.length && w.every((x, i) => Object.is(x, v[i])) && back.config.tieWeights === model.config.tieWeights;
    model.dispose();
    back.dispose();
  }
  return { cases, roundTrip };
}
