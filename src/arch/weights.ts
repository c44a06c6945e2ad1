// Weights from a model file by exact tensor name: for models whose files only rnn-wasm writes
// (several stacks, extra linear layers), where PyTorch-prefix guessing does not apply.
import type { DecodedSafetensors } from '../safetensors.js';
import type { Layout } from '../layout.js';

/** A new flat weight array from the file's tensors, one per layout entry by the same name
 *  and shape; any missing, misshapen or extra tensor is an error naming it. */
export function exactWeights(where: string, layout: Layout, file: DecodedSafetensors): Float32Array {
  const out = new Float32Array(layout.size);
  for (const e of layout.entries) {
    const t = file.tensors.get(e.name);
    if (!t) {
      const names = [...file.tensors.keys()];
      const have = names.length > 12 ? `${names.slice(0, 12).join(', ')}, …` : names.join(', ');
      throw new RangeError(`${where}: the file has no tensor ${JSON.stringify(e.name)} (shape [${e.shape.join(', ')}]); it has ${have || 'no tensors'}`);
    }
    if (t.shape.length !== e.shape.length || t.shape.some((d, i) => d !== e.shape[i])) {
      throw new RangeError(`${where}: tensor ${JSON.stringify(e.name)} has shape [${t.shape.join(', ')}], the model needs [${e.shape.join(', ')}]`);
    }
    out.set(t.data, e.offset);
  }
  const extra = [...file.tensors.keys()].filter((n) => !layout.get(n) || layout.get(n)!.name !== n);
  if (extra.length > 0) throw new RangeError(`${where}: the file has tensors this model does not use: ${extra.join(', ')} (check the config)`);
  return out;
}
