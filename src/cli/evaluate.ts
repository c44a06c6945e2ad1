/// <reference types="node" />
// `rnn-wasm eval MODEL TEXT`: how well a language model predicts a text. The text is read as
// a stream and encoded with the model's tokenizer (tokens it lacks become <unk>), cut into
// windows of --seq tokens (the last one shorter), each predicting its next tokens from a zero
// state; the result is the mean cross-entropy per predicted token, in nats and bits, and the
// perplexity.
import { helpText, parseCommand, UsageError, type CommandSpec } from './args.js';
import { encodeText, scanText } from './corpus.js';
import { windowCount, windows } from './windows.js';
import { grouped, table } from './format.js';
import { loadLanguageModel } from './model-file.js';

export const evalSpec: CommandSpec = {
  name: 'eval',
  summary: 'Score a model on a text: loss, bits per character (or word) and perplexity.',
  positionals: [
    { name: 'model', help: 'a model file written by rnn-wasm train' },
    { name: 'text', help: 'the text file to score (UTF-8)' },
  ],
  flags: {
    seq: { type: 'int', min: 1, max: 100000, default: 256, help: 'tokens per window; each window starts from a zero state' },
    batch: { type: 'int', min: 1, max: 100000, default: 32, help: 'windows scored at once' },
  },
  notes: 'example: rnn-wasm eval model.safetensors held-out.txt',
};

export async function evaluate(argv: readonly string[], out: NodeJS.WriteStream): Promise<number> {
  const args = parseCommand(evalSpec, argv);
  if (args.help) {
    out.write(helpText(evalSpec));
    return 0;
  }
  const [modelPath, textPath] = args.positionals;
  const T = args.flags.seq as number, B = args.flags.batch as number;
  const { model, tokenizer } = await loadLanguageModel('eval', modelPath);
  try {
    const kind = tokenizer.kind === 'char' ? 'chars' : 'words';
    const scan = await scanText(textPath, kind);
    if (scan.tokens < 2) throw new UsageError(`rnn-wasm eval: ${textPath} has ${scan.tokens} ${kind}; scoring needs at least 2`);
    const ids = await encodeText(textPath, kind, tokenizer, scan.tokens);
    const data = windows(ids, T, 0, windowCount(ids.length, T, true));
    const m = model.evaluate(data, { batchSize: B, metrics: ['perplexity', 'bitsPerChar'] });
    let unknown = 0;
    for (const [token, n] of scan.counts) if (tokenizer.id(token) === tokenizer.unk && token !== '<unk>') unknown += n;
    const unit = tokenizer.kind === 'char' ? 'character' : 'word';
    out.write([
      `${textPath}: ${grouped(scan.tokens)} ${unit}s (${grouped(unknown)} unknown to the model, scored as <unk>), ` +
        `${grouped(scan.tokens - 1)} predicted in windows of ${T}`,
      table([
        ['loss', m.loss.toFixed(4), `nats per ${unit}`],
        [`bits per ${unit === 'character' ? 'char' : 'word'}`, m.bitsPerChar!.toFixed(4), ''],
        ['perplexity', m.perplexity!.toFixed(4), ''],
      ], [false, true, false]),
    ].join('\n') + '\n');
    return 0;
  } finally {
    model.dispose();
  }
}
