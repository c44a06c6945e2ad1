// rnn-wasm: recurrent neural networks for Node and browsers, with the math in WebAssembly.
// Public exports only. (The lib reference types Symbol.dispose, which models implement.)
/// <reference lib="esnext.disposable" preserve="true" />
export { createRNN, loadRNN, RNN } from './model.js';
export type {
  RNNConfig, ResolvedConfig, Batch, LabeledBatch, ForwardResult, Gradients, SampleOptions, LMGenerateOptions, LMBeamOptions, LoadRNNOptions,
  InputOf, OutputOf,
} from './model.js';
export { Network } from './network.js';
/** evaluate()'s options: `batchSize` (examples per batch, default 32) and `metrics` (reported
 *  besides the loss). */
export type EvaluateOptions = NonNullable<Parameters<import('./network.js').Network['evaluate']>[1]>;
export type { TrainOptions, StepResult, FitOptions, FitResult, Progress, Examples, GradientOptions } from './network.js';
export type { AbortSignalLike } from './train/types.js';
export type { Dataset, EpochLogs, EarlyStoppingOptions, ReduceLROnPlateauOptions, MetricName, Metrics, Monitor, DataStream, Example } from './network.js';
// Length bucketing: one epoch's batches of similar lengths, as fit({ bucketByLength }) cuts them.
export { bucketBatches } from './train/buckets.js';
// Text read as it comes (any size, bounded memory): lines, words, token windows, language-model batches.
export { languageModelBatches, linesOf, tokenIdsOf, tokenWindows, wordChunksOf, wordsOf } from './text.js';
export type { TextChunks, WindowOptions, LanguageModelBatchOptions } from './text.js';
// Embedding layers: their config types.
export type {
  EmbeddingConfig, EmbeddingOptions, ResolvedEmbedding, TokenEmbeddingConfig, ResolvedTokenEmbedding,
} from './embedding.js';
// Data-parallel training over worker threads: fit(data, { workers: 2 | pool }).
export { createWorkerPool, WorkerPool, type WorkerPoolOptions } from './workers/pool.js';
export { learningRateAt, resolveSchedule } from './schedule.js';
export type {
  ScheduleName, ScheduleConfig, ResolvedSchedule, Warmup,
  ConstantSchedule, StepSchedule, MultiStepSchedule, ExponentialSchedule, CosineSchedule, LinearSchedule,
} from './schedule.js';
export type { InputKind, OutputKind, Sequence, Targets, TokenSequence, DenseSequence, DenseTargets } from './data.js';
export type { OptimizerName, OptimizerConfig, SGDConfig, AdamConfig, RMSPropConfig, AdagradConfig } from './optim.js';
export type { Layout, TensorEntry, TensorRole, CellParams, CellKind } from './layout.js';
export type { LoadOptions } from './io.js';
export { encodeSafetensors, decodeSafetensors, SafetensorsError } from './safetensors.js';
export type { SafetensorsTensor, DecodedSafetensors, SafetensorsErrorCode } from './safetensors.js';
export { relaxedSimdSupported, simdSupported, type Backend, type Build } from './wasm.js';
export { Random } from './random.js';
// What fits: the most parameters a model holds, and the bounds on generated sequences.
export { MAX_BEAM_CANDIDATES, MAX_GENERATED, MAX_LENGTH, MAX_PARAMS } from './limits.js';
// Low-level access, for benchmarks and custom kernels: the instantiated module per backend
// and an allocator of regions in its memory. Pointers are byte offsets into kernels.memory.
export { getEngine, type Engine, type Kernels, type WasmMemory } from './wasm.js';
export { Arena, getMemoryStats, type Region, type MemoryStats } from './arena.js';
// The five architectures (createModel / loadModel) and decoding.
export { createModel, loadModel } from './architectures.js';
export type { ModelConfig, Model, ModelFor, ModelOf, LoadModelOptions } from './architectures.js';
export type { Architecture, Step, Label, Prediction, CellOptions, CommonConfig, ResolvedCell } from './arch/common.js';
export { OneToOne } from './arch/one-to-one.js';
export type { OneToOneConfig, ResolvedOneToOne, OneToOneBatch, LabeledOneToOneBatch, OneToOneResult } from './arch/one-to-one.js';
export { OneToMany } from './arch/one-to-many.js';
export type { OneToManyConfig, ResolvedOneToMany, OneToManyBatch, OneToManyGenerateOptions, SequenceResult, Generated } from './arch/one-to-many.js';
export { ManyToOne } from './arch/many-to-one.js';
export type { ManyToOneConfig, ResolvedManyToOne, ManyToOneBatch, LabeledManyToOneBatch, ManyToOneResult } from './arch/many-to-one.js';
export { ManyToMany } from './arch/many-to-many.js';
export type { ManyToManyConfig, ResolvedManyToMany } from './arch/many-to-many.js';
export { EncoderDecoder } from './arch/encoder-decoder.js';
export type { AttentionKind } from './arch/attention.js';
export type {
  EncoderDecoderConfig, ResolvedEncoderDecoder, EncoderDecoderBatch, EncoderDecoderResult, EncoderDecoderGenerateOptions,
  EncoderDecoderForwardOptions, GeneratedWithAttention, HypothesisWithAttention, TokenWithAttention,
} from './arch/encoder-decoder.js';
export { argmax, beamSearch, decodeBatch, pickToken, resolveSampling, samplingDistribution, streamTokens } from './decode.js';
export type { SamplingOptions, GenerateOptions, BeamOptions, Hypothesis, TracedHypothesis, TokenStepper, Sampler } from './decode.js';
// Tokenizers: text ↔ token ids, saved with models.
export { CharTokenizer, WordTokenizer, tokenizerFromJSON, splitWords } from './tokenizer.js';
export type {
  Tokenizer, TokenizerJSON, SpecialTokens, EncodeOptions, DecodeOptions, BuildOptions, WordBuildOptions, UnknownPolicy, WordSplit,
} from './tokenizer.js';
// Models in and out of other frameworks: ONNX, and Keras / TensorFlow.js.
export { toONNX, loadONNX } from './onnx.js';
export type { ONNXExportOptions, LoadONNXOptions, ONNXEmbeddingOptions } from './onnx.js';
export { loadKerasModel } from './keras.js';
export type { KerasLoadOptions, KerasWeightData } from './keras.js';
export type { ImportOptions, ImportedModel } from './convert.js';
// Browsers: models in IndexedDB, as Blobs, downloads and uploads.
export { saveToIndexedDB, loadFromIndexedDB, listSaved, deleteSaved, modelToBlob, downloadModel, loadFromBlob } from './browser.js';
export type { SavedModelInfo, IndexedDBOptions, BlobOf, BlobLike } from './browser.js';
