// ONNX in and out: toONNX writes a model as an ONNX file of standard RNN / LSTM / GRU nodes
// (onnx-export.ts); loadONNX reads such files, written by rnn-wasm or by torch.onnx.export,
// back into a model (onnx-import.ts). The file format itself is onnx-proto.ts.
export { toONNX, type ONNXExportOptions } from './onnx-export.js';
export { loadONNX, type LoadONNXOptions } from './onnx-import.js';
