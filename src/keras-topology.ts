// A Keras model's topology (the modelTopology of a TensorFlow.js model.json) as the ordered
// list of its layers. Sequential models list them in order; a functional model ('Model' /
// 'Functional') must be one chain from its input to its output, which is walked from the
// input along each layer's inbound node. The formats of tfjs-layers, of tf.keras 2 (through
// tensorflowjs_converter, wrapped in model_config) and of Keras 3 (inbound nodes as
// keras_history) are read.

import { describe } from './validate.js';

/** One layer: its class ('LSTM', 'Dense', …), name and config. */
export interface KerasLayer {
  className: string;
  name: string;
  config: Record<string, unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The layers of the model, from its input to its output. */
export function kerasLayers(where: string, topology: unknown): KerasLayer[] {
  if (!isObject(topology)) throw new TypeError(`${where}: modelJson.modelTopology must be an object, got ${describe(topology)}`);
  const model = isObject(topology.model_config) ? topology.model_config : topology;
  const cls = model.class_name;
  const config = model.config;
  if (cls === 'Sequential') {
    const layers = Array.isArray(config) ? config : isObject(config) ? config.layers : undefined;
    if (!Array.isArray(layers)) throw new TypeError(`${where}: the Sequential model's config has no layers`);
    return layers.map((l, i) => layerOf(where, l, `layer ${i}`));
  }
  if (cls === 'Model' || cls === 'Functional') return chain(where, config);
  throw new TypeError(`${where}: the model's class_name is ${describe(cls)}; rnn-wasm reads Keras Sequential and functional models`);
}

function layerOf(where: string, l: unknown, at: string): KerasLayer {
  if (!isObject(l) || typeof l.class_name !== 'string' || !isObject(l.config)) {
    throw new TypeError(`${where}: ${at} of the model must be { class_name, config }, got ${describe(l)}`);
  }
  const name = typeof l.config.name === 'string' ? l.config.name : typeof l.name === 'string' ? l.name : at;
  return { className: l.class_name, name, config: l.config };
}

/** A functional model's layers in order; anything but a single chain is refused. */
function chain(where: string, config: unknown): KerasLayer[] {
  if (!isObject(config) || !Array.isArray(config.layers)) throw new TypeError(`${where}: the functional model's config has no layers`);
  const entries = config.layers.map((l, i) => ({ layer: layerOf(where, l, `layer ${i}`), inbound: inboundOf(where, l) }));
  const ends = (key: string) => {
    const list = config[key];
    const names = Array.isArray(list) ? (Array.isArray(list[0]) ? list.map((x) => (x as unknown[])[0]) : [list[0]]) : [];
    if (names.length !== 1 || typeof names[0] !== 'string') {
      throw new TypeError(`${where}: the functional model has ${names.length} ${key === 'input_layers' ? 'inputs' : 'outputs'}; rnn-wasm reads models with one input and one output`);
    }
    return names[0] as string;
  };
  const [input, output] = [ends('input_layers'), ends('output_layers')];
  const byName = new Map(entries.map((e) => [e.layer.name, e]));
  const order: KerasLayer[] = [];
  let at = byName.get(input);
  while (at && order.length < entries.length) {
    order.push(at.layer);
    if (at.layer.name === output) break;
    const next = entries.filter((e) => e.inbound.includes(at!.layer.name));
    if (next.length !== 1) throw new TypeError(`${where}: layer '${at.layer.name}' feeds ${next.length} layers; rnn-wasm reads models that are one chain of layers`);
    at = next[0];
  }
  const last = order[order.length - 1];
  if (!last || last.name !== output || order.length !== entries.length) {
    throw new TypeError(`${where}: the functional model is not one chain from '${input}' to '${output}'; rnn-wasm reads chains of layers`);
  }
  for (const e of entries.slice(1)) {
    if (e.inbound.length > 1) throw new TypeError(`${where}: layer '${e.layer.name}' has ${e.inbound.length} inputs; rnn-wasm reads chains of layers`);
  }
  return order;
}

/** Names of the layers feeding a layer, from its inbound_nodes (Keras 2, tfjs, Keras 3). */
function inboundOf(where: string, l: unknown): string[] {
  const nodes = isObject(l) ? l.inbound_nodes : undefined;
  if (nodes === undefined || (Array.isArray(nodes) && nodes.length === 0)) return [];
  if (!Array.isArray(nodes) || nodes.length !== 1) throw new TypeError(`${where}: layer ${describe(isObject(l) ? l.name : l)} is called ${Array.isArray(nodes) ? nodes.length : 'an unknown number of'} times; rnn-wasm reads layers used once`);
  const node = nodes[0];
  if (Array.isArray(node)) return node.map((t) => (Array.isArray(t) ? t[0] : undefined)).filter((n): n is string => typeof n === 'string');
  if (isObject(node) && Array.isArray(node.args)) {
    return node.args.flatMap((a) => {
      const history = isObject(a) && isObject(a.config) ? a.config.keras_history : undefined;
      return Array.isArray(history) && typeof history[0] === 'string' ? [history[0]] : [];
    });
  }
  throw new TypeError(`${where}: layer ${describe(isObject(l) ? l.name : l)} has inbound nodes in a form rnn-wasm does not read`);
}
