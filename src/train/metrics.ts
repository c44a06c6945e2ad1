// Metrics: the sums a batch reports (summed loss, terms, right answers), how they add up over
// an epoch, and what they mean — mean loss per term, accuracy, perplexity, bits per character.
// Also evaluation: the same sums over a data set, batch by batch, in inference mode.
import type { StatSums } from '../checkpoint.js';
import { checkChoice, describe } from '../validate.js';
import { checkStreamItem } from './examples.js';
import { isStream, open, readOnce } from './stream.js';
import type { Trainable } from './trainable.js';
import type { DataStream, Dataset, EpochLogs, Examples, MetricName, Metrics, Monitor, StatsWanted } from './types.js';

export function zeroSums(): StatSums {
  return { lossSum: 0, terms: 0, correct: 0, counted: 0 };
}

export function addSums(into: StatSums, s: StatSums): void {
  into.lossSum += s.lossSum;
  into.terms += s.terms;
  into.correct += s.correct;
  into.counted += s.counted;
  if (s.nllTerms !== undefined) {
    into.nllSum = (into.nllSum ?? 0) + s.nllSum!;
    into.nllTerms = (into.nllTerms ?? 0) + s.nllTerms;
  }
}

export function metricsOf(s: StatSums, names: readonly MetricName[]): Metrics {
  const loss = s.lossSum / s.terms;
  // perplexity is of the plain cross-entropy: the loss itself, unless it is weighted or smoothed
  const nll = s.nllTerms !== undefined ? s.nllSum! / s.nllTerms : loss;
  const m: Metrics = { loss };
  for (const name of names) {
    if (name === 'accuracy') m.accuracy = s.correct / s.counted;
    if (name === 'perplexity') m.perplexity = Math.exp(nll);
    if (name === 'bitsPerChar') m.bitsPerChar = nll / Math.LN2;
  }
  return m;
}

/** The value early stopping watches, from an epoch's logs (NaN when absent). */
export function monitored(monitor: Monitor, logs: EpochLogs): number {
  if (monitor === 'loss') return logs.loss;
  const [source, name] = monitor.startsWith('val_') ? [logs.val, monitor.slice(4)] : [logs.metrics, monitor];
  return (source as Record<string, number> | undefined)?.[name] ?? NaN;
}

/** The value to watch (early stopping, reduceLROnPlateau): `given`, or by default 'val_loss'
 *  with validation data and 'loss' without; a metric must be one fit reports. */
export function resolveMonitor(where: string, name: string, given: unknown, hasVal: boolean, metrics: readonly MetricName[]): Monitor {
  const monitors = ['loss', 'val_loss', ...metrics, ...metrics.map((m) => `val_${m}`)] as Monitor[];
  const monitor = given ?? (hasVal ? 'val_loss' : 'loss');
  if (typeof monitor === 'string' && monitor.startsWith('val_') && !hasVal) {
    throw new RangeError(`${where}: ${name} '${monitor}' needs validationData or validationSplit`);
  }
  return checkChoice(where, `${name} (the loss, or a metric listed in metrics)`, monitor, monitors);
}

/** Check a list of metric names against what the model's outputs allow. */
export function resolveMetrics(where: string, metrics: unknown, supported: readonly MetricName[]): MetricName[] {
  if (metrics === undefined) return [];
  if (!Array.isArray(metrics)) throw new TypeError(`${where}: metrics must be an array of metric names, got ${describe(metrics)}`);
  return metrics.map((m, i) => {
    const name = checkChoice(where, `metrics[${i}]`, m, ['accuracy', 'perplexity', 'bitsPerChar'] as const);
    if (!supported.includes(name)) {
      const hint = name === 'accuracy' ? '' : ` (perplexity and bits per character are of the cross-entropy: they need output 'softmax')`;
      throw new RangeError(`${where}: metrics[${i}] '${name}' is not available for this model's outputs; it reports ${supported.length ? supported.map((s) => `'${s}'`).join(', ') : 'only the loss'}${hint}`);
    }
    return name;
  });
}

/** Loss and metrics over a data set or a stream of batches, batch by batch, in inference mode
 *  (fit's validation; `at` says when, to name a bad batch of a stream). */
export async function evaluateAny<TBatch extends Examples>(model: Trainable<TBatch>, where: string, data: Dataset<TBatch> | DataStream,
                                                           batchSize: number, metrics: readonly MetricName[], at: string): Promise<Metrics> {
  if (!isStream(data)) return evaluateData(model, where, data, batchSize, metrics);
  const sums = zeroSums();
  const want: StatsWanted = { accuracy: metrics.includes('accuracy') };
  let index = 0;
  for await (const batch of open(where, data)) {
    checkStreamItem(model, where, batch as TBatch, { kind: 'batch', index: index++, at, stream: 'validation data stream' });
    addSums(sums, model.evaluateBatch(where, batch as TBatch, want));
  }
  // no batches would be a NaN loss that early stopping reads as no improvement
  if (index === 0) {
    throw new RangeError(`${where}: the validation data stream yielded nothing (${at}); ${readOnce('validationData as')}`);
  }
  return metricsOf(sums, metrics);
}

/** Loss and metrics over a data set, batch by batch, in inference mode. */
export function evaluateData<TBatch extends Examples>(model: Trainable<TBatch>, where: string, data: Dataset<TBatch>,
                                                      batchSize: number, metrics: readonly MetricName[]): Metrics {
  const sums = zeroSums();
  const want: StatsWanted = { accuracy: metrics.includes('accuracy') };
  for (let i = 0; i < data.x.length; i += batchSize) {
    const batch = { x: data.x.slice(i, i + batchSize), y: data.y.slice(i, i + batchSize) } as unknown as TBatch;
    addSums(sums, model.evaluateBatch(where, batch, want));
  }
  return metricsOf(sums, metrics);
}
