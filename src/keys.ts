// The fields every config and options object takes, in one table: checkKeys (validate.ts)
// refuses any other key, so a typo (`layer` for `layers`) is an error that names the closest
// field instead of a silent default. A new field is one entry in its object's list here.
//
// Model files are read through the same lists: every key save() has ever written for an
// architecture is in its list, so files from older versions still load.

/** Fields of a recurrent cell (every architecture, and each side of an encoder-decoder). */
const CELL = ['cell', 'n_a', 'layers', 'activation', 'resetAfter', 'dropout', 'bias'] as const;
/** Fields every model takes besides its cell. */
const COMMON = [...CELL, 'headBias', 'reduction', 'classWeights', 'labelSmoothing', 'ignoreIndex', 'posWeight', 'seed', 'backend'] as const;
/** A model that reads tokens through one embedding table, maybe tied to its output layer. */
const EMBEDDING = ['embedding', 'tieWeights'] as const;
/** createRNN's config (and many-to-many's, which is an RNN). */
const RNN = [...COMMON, ...EMBEDDING, 'n_x', 'n_y', 'input', 'output', 'bidirectional', 'outputDropout'] as const;
/** Sampling, as every generating call takes it. */
const SAMPLING = ['strategy', 'temperature', 'topK', 'topP', 'seed'] as const;
/** Where a loader finds a model's tensors in a file. */
const LOAD = ['rnnPrefix', 'headPrefix', 'embeddingPrefix', 'strict'] as const;
/** A training step's options. */
const TRAIN = ['optimizer', 'learningRate', 'schedule', 'clipNorm', 'clipValue', 'onNonFinite', 'tbptt'] as const;

export const KEYS = {
  // model configs, by architecture
  rnn: RNN,
  'many-to-many': [...RNN, 'architecture', 'tokenizers'],
  'one-to-one': [...COMMON, ...EMBEDDING, 'architecture', 'n_x', 'n_y', 'input', 'output', 'tokenizers'],
  'one-to-many': [...COMMON, ...EMBEDDING, 'architecture', 'n_y', 'output', 'startToken', 'stopToken', 'tokenizers'],
  'many-to-one': [...COMMON, ...EMBEDDING, 'architecture', 'n_x', 'n_y', 'input', 'output', 'bidirectional', 'tokenizers'],
  'encoder-decoder': [...COMMON, ...EMBEDDING, 'architecture', 'n_x', 'n_y', 'input', 'output', 'encoder', 'decoder', 'bridge',
    'attention', 'startToken', 'stopToken', 'tokenizers', 'shareEmbeddings'],
  encoder: [...CELL, 'bidirectional', 'embedding'],
  decoder: [...CELL, 'embedding'],
  /** An embedding's options (embedding: E is a number). */
  embedding: ['size', 'paddingIdx', 'frozen'],
  /** tokenizers of the encoder-decoder and many-to-many: source / input (x) and target (y). */
  tokenizers: ['x', 'y'],
  /** tokenizers of the one-to-one and many-to-one (input only) and one-to-many (output only). */
  inputTokenizers: ['x'],
  outputTokenizers: ['y'],
  // loading
  loadWeights: LOAD,
  loadRNN: [...LOAD, 'config', 'backend'],
  loadModel: ['backend', 'architecture'],
  // models in and out of other frameworks
  toONNX: ['lengths'],
  loadONNX: ['backend', 'seed', 'embedding'],
  /** loadONNX's embedding: what an ONNX file does not record about its table. */
  onnxEmbedding: ['paddingIdx', 'frozen'],
  loadKerasModel: ['backend', 'seed', 'trainingSettings'],
  // training
  trainStep: TRAIN,
  fit: [...TRAIN, 'epochs', 'batchSize', 'shuffle', 'validationData', 'validationSplit', 'validationBatchSize', 'metrics',
    'earlyStopping', 'onProgress', 'onEpochEnd', 'signal', 'yieldEveryMs', 'resume', 'workers', 'bucketByLength', 'poolSize', 'yields', 'stepsPerEpoch',
    'reduceLROnPlateau'],
  computeGradients: ['names'],
  evaluate: ['batchSize', 'metrics'],
  earlyStopping: ['patience', 'monitor', 'minDelta', 'restoreBestWeights'],
  reduceLROnPlateau: ['monitor', 'mode', 'factor', 'patience', 'threshold', 'thresholdMode', 'cooldown', 'minLr', 'eps'],
  sgd: ['type', 'learningRate', 'momentum', 'dampening', 'nesterov', 'weightDecay'],
  adam: ['type', 'learningRate', 'beta1', 'beta2', 'eps', 'weightDecay'],
  adamw: ['type', 'learningRate', 'beta1', 'beta2', 'eps', 'weightDecay'],
  rmsprop: ['type', 'learningRate', 'alpha', 'eps', 'momentum', 'weightDecay'],
  adagrad: ['type', 'learningRate', 'lrDecay', 'eps', 'weightDecay', 'initialAccumulatorValue'],
  constant: ['type', 'warmup'],
  step: ['type', 'warmup', 'stepSize', 'gamma'],
  multistep: ['type', 'warmup', 'milestones', 'gamma'],
  exponential: ['type', 'warmup', 'gamma'],
  cosine: ['type', 'warmup', 'tMax', 'etaMin'],
  linear: ['type', 'warmup', 'startFactor', 'endFactor', 'totalIters'],
  warmup: ['steps', 'startFactor'],
  // generating
  sample: ['length', 'prime', 'temperature', 'topK', 'topP', 'seed'],
  generate: [...SAMPLING, 'maxLength', 'prefix', 'stop', 'onToken'],
  /** One-to-many's generate and stream: also the first input and the initial state. */
  generateFrom: [...SAMPLING, 'maxLength', 'prefix', 'stop', 'onToken', 'x', 'a0', 'c0'],
  /** One-to-many's stream: generate's options but onToken (the caller reads each token). */
  streamFrom: [...SAMPLING, 'maxLength', 'prefix', 'stop', 'x', 'a0', 'c0'],
  stream: [...SAMPLING, 'maxLength', 'prefix', 'stop'],
  generateMany: [...SAMPLING, 'maxLength', 'stop', 'x'],
  /** A language model's generateMany (createRNN, many-to-many): every sequence after one prefix. */
  generateManyAfter: [...SAMPLING, 'maxLength', 'stop', 'prefix'],
  generateBatch: [...SAMPLING, 'maxLength', 'stop', 'onToken', 'prefix'],
  beamSearch: ['beamWidth', 'maxLength', 'stop', 'lengthPenalty', 'prefix'],
  /** The encoder-decoder's forward and decoding calls, which can return attention's weights. */
  encoderDecoderForward: ['returnAttention'],
  encoderDecoderGenerate: [...SAMPLING, 'maxLength', 'prefix', 'stop', 'onToken', 'returnAttention'],
  encoderDecoderGenerateBatch: [...SAMPLING, 'maxLength', 'stop', 'onToken', 'prefix', 'returnAttention'],
  encoderDecoderStream: [...SAMPLING, 'maxLength', 'prefix', 'stop', 'returnAttention'],
  encoderDecoderBeamSearch: ['beamWidth', 'maxLength', 'stop', 'lengthPenalty', 'prefix', 'returnAttention'],
  /** One-to-many's beam search: also the first input. */
  beamSearchFrom: ['beamWidth', 'maxLength', 'stop', 'lengthPenalty', 'prefix', 'x'],
  state: ['a0', 'c0'],
  // tokenizers
  tokenizerJSON: ['kind', 'tokens', 'unk', 'bos', 'eos', 'lowercase', 'unknown', 'split'],
  tokenizerBuild: ['unk', 'bos', 'eos', 'minCount', 'maxTokens', 'order', 'lowercase', 'unknown'],
  /** WordTokenizer.fromText: also how text is cut into words. */
  wordTextBuild: ['unk', 'bos', 'eos', 'minCount', 'maxTokens', 'order', 'lowercase', 'unknown', 'split'],
  // reading text as it comes
  tokenWindows: ['length', 'stride'],
  languageModelBatches: ['T', 'batchSize', 'stride'],
  readText: ['chunkBytes'],
  readWords: ['chunkBytes', 'split'],
  readTokenWindows: ['length', 'stride', 'chunkBytes'],
  textBatches: ['T', 'batchSize', 'stride', 'chunkBytes'],
  encode: ['bos', 'eos'],
  decode: ['skipSpecial'],
} as const satisfies Record<string, readonly string[]>;
