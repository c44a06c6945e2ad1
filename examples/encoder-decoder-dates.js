// Encoder-decoder: human-readable dates → ISO dates ('3 May 1979' → '1979-05-03').
// The encoder reads the date character by character; its final state starts the decoder,
// which writes the ISO date one character at a time, greedy-decoded. Dates are generated
// in code in 14 formats, so nothing is downloaded. Source and target have their own
// vocabularies and lengths. Run with `node examples/encoder-decoder-dates.js`.
//
//   encoder   e<t> = LSTM(e<t-1>, x<t>)           x<t> = character t of the source
//   decoder   a<0> = e<T_x>;  a<t> = LSTM(a<t-1>, y<t-1>)   ŷ<t> = softmax(W_ya a<t> + b_y)
//   L         = mean over target characters of −log ŷ<t>[y<t>]
import { CharTokenizer, createModel, Random } from '../dist/index.js';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const pad = (n) => String(n).padStart(2, '0');
const ordinal = (d) => d + (d % 10 === 1 && d !== 11 ? 'st' : d % 10 === 2 && d !== 12 ? 'nd' : d % 10 === 3 && d !== 13 ? 'rd' : 'th');

/** The formats a date is written in, each a function of (year, month 1-12, day, weekday 0-6 from Monday). */
export const FORMATS = [
  (y, m, d) => `${d} ${MONTHS[m - 1]} ${y}`,                            // 3 May 1979
  (y, m, d) => `${pad(d)} ${MONTHS[m - 1]} ${y}`,                       // 03 May 1979
  (y, m, d) => `${d} ${MONTHS[m - 1].slice(0, 3)} ${y}`,                // 3 May 1979 (short month)
  (y, m, d) => `${MONTHS[m - 1]} ${d}, ${y}`,                           // May 3, 1979
  (y, m, d) => `${MONTHS[m - 1].slice(0, 3)} ${d}, ${y}`,               // May 3, 1979 (short)
  (y, m, d, w) => `${DAYS[w]}, ${MONTHS[m - 1]} ${d}, ${y}`,            // Thursday, May 3, 1979
  (y, m, d, w) => `${DAYS[w].slice(0, 3)} ${d} ${MONTHS[m - 1].slice(0, 3)} ${y}`,  // Thu 3 May 1979
  (y, m, d) => `${ordinal(d)} of ${MONTHS[m - 1]} ${y}`,                // 3rd of May 1979
  (y, m, d) => `${d} ${MONTHS[m - 1].toLowerCase()} ${y}`,              // 3 may 1979
  (y, m, d) => `${MONTHS[m - 1].toUpperCase().slice(0, 3)} ${d} ${y}`,  // MAY 3 1979
  (y, m, d) => `${pad(d)}/${pad(m)}/${y}`,                              // 03/05/1979 (day first)
  (y, m, d) => `${d}.${m}.${y}`,                                        // 3.5.1979
  (y, m, d) => `${y}-${pad(m)}-${pad(d)}`,                              // 1979-05-03 (already ISO)
  (y, m, d) => `${y}/${m}/${d}`,                                        // 1979/5/3
];

/** n random (human-readable, ISO) pairs, dates from 1900-01-01 to 2099-12-31. */
export function makeDates(rng, n) {
  const start = Date.UTC(1900, 0, 1), days = Math.round((Date.UTC(2099, 11, 31) - start) / 86400000) + 1;
  const pairs = [];
  for (let i = 0; i < n; i++) {
    const date = new Date(start + rng.int(days) * 86400000);
    const y = date.getUTCFullYear(), m = date.getUTCMonth() + 1, d = date.getUTCDate();
    const w = (date.getUTCDay() + 6) % 7;
    pairs.push([FORMATS[rng.int(FORMATS.length)](y, m, d, w), `${y}-${pad(m)}-${pad(d)}`]);
  }
  return pairs;
}

/** Train on generated dates; returns the model, tokenizers and held-out exact-match accuracy. */
export async function train({ steps = 2000, batchSize = 32, n_a = 64, cell = 'lstm', learningRate = 0.015, seed = 1, log = console.log, every = 250 } = {}) {
  const rng = new Random(seed);
  const heldOut = makeDates(rng, 1000);
  // vocabularies: every character any format can produce, and the ISO date's
  const source = CharTokenizer.fromText([...'0123456789 ,./-', ...MONTHS, ...MONTHS.map((m) => m.toLowerCase() + m.toUpperCase()), ...DAYS, 'stndrdthof'], { bos: false, eos: false });
  const target = CharTokenizer.fromText('0123456789-', { unk: false });
  const model = await createModel({
    architecture: 'encoder-decoder', input: 'tokens', n_x: source.size, n_y: target.size,
    cell, n_a, reduction: 'mean', seed, tokenizers: { x: source, y: target },
  });
  log(`model: ${cell} encoder-decoder, n_a = ${n_a}, ${model.numParams} parameters; source ${source.size} characters, target ${target.size} tokens`);
  const encode = (pairs) => ({ x: pairs.map(([s]) => source.encode(s)), y: pairs.map(([, t]) => target.encode(t, { eos: true })) });
  const test = encode(heldOut);
  // greedy decoding of 200 sources at a time, one decoder step per character for all of them
  const accuracy = () => {
    let right = 0;
    for (let i = 0; i < heldOut.length; i += 200) {
      model.generateBatch(test.x.slice(i, i + 200), { maxLength: 12 }).forEach((ids, j) => { right += target.decode(ids) === heldOut[i + j][1] ? 1 : 0; });
    }
    return right / heldOut.length;
  };
  const t0 = performance.now();
  let smooth;
  for (let step = 1; step <= steps; step++) {
    // the learning rate decays linearly to a tenth over the run
    const r = model.trainStep(encode(makeDates(rng, batchSize)), { learningRate, schedule: { type: 'linear', startFactor: 1, endFactor: 0.1, totalIters: steps }, clipNorm: 5 });
    smooth = smooth === undefined ? r.loss : 0.95 * smooth + 0.05 * r.loss;
    if (step % every === 0 || step === steps) {
      log(`step ${String(step).padStart(5)} | loss ${smooth.toFixed(4)} | held-out exact match ${(100 * accuracy()).toFixed(1)}% | ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
  }
  return { model, source, target, heldOut, accuracy: accuracy(), seconds: (performance.now() - t0) / 1000 };
}

async function main() {
  const { model, source, target, heldOut, accuracy } = await train();
  console.log(`\nheld-out exact match (greedy): ${(100 * accuracy).toFixed(1)}% of ${heldOut.length}\n`);
  for (const text of ['3 May 1979', 'Sunday, February 29, 2004', ...heldOut.slice(0, 6).map(([t]) => t)]) {
    const greedy = target.decode(model.generate(source.encode(text), { maxLength: 12 }));
    const [best] = model.beamSearch(source.encode(text), { beamWidth: 4, maxLength: 12 });
    console.log(`${text.padEnd(30)} → ${greedy}   (beam 4: ${target.decode(best.tokens)})`);
  }
  model.dispose();
}

// run when executed (node examples/…), not when imported by the tests
if (import.meta.url === new URL(process.argv[1], 'file://').href) main();
