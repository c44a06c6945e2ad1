// The learning curve of a training run: one row per logged step, written as CSV (every
// number) and as a self-contained SVG chart (bits per token, training and held-out, against
// optimizer steps). The SVG is hand-made: axes with round ticks, a polyline per series, and a
// circle per logged step carrying its step and value (data-step, data-value, a <title>
// tooltip), so the chart is readable by people and by programs.

import { largest } from '../validate.js';

/** One logged step of a run. */
export interface Row {
  /** Optimizer steps since the start of the run. */
  step: number;
  /** The epoch the step belongs to, from 1. */
  epoch: number;
  /** Tokens trained on since the start of the run. */
  tokens: number;
  /** Mean training loss (nats per token) over the steps since the previous row. */
  trainLoss: number;
  /** Loss (nats per token) on the held-out sample at this step; NaN without held-out text. */
  heldOutLoss: number;
  learningRate: number;
  /** Training speed since the previous row (held-out scoring included). */
  tokensPerSecond: number;
  /** Training time since the start of the run, over every resumed session. */
  elapsedMs: number;
}

const CSV_COLUMNS = [
  'step', 'epoch', 'tokens', 'train_loss', 'train_bits', 'heldout_loss', 'heldout_bits', 'learning_rate', 'tokens_per_s', 'elapsed_s',
] as const;

/** The rows as CSV with a header line; losses in nats per token, bits = nats / ln 2. */
export function curveCSV(rows: readonly Row[]): string {
  const num = (v: number) => (Number.isFinite(v) ? String(v) : '');
  const lines = rows.map((r) => [
    r.step, r.epoch, r.tokens, r.trainLoss, r.trainLoss / Math.LN2, r.heldOutLoss, r.heldOutLoss / Math.LN2,
    r.learningRate, Math.round(r.tokensPerSecond), (r.elapsedMs / 1000).toFixed(3),
  ].map((v) => (typeof v === 'number' ? num(v) : v)).join(','));
  return [CSV_COLUMNS.join(','), ...lines].join('\n') + '\n';
}

const W = 800, H = 420;
const M = { left: 68, right: 24, top: 48, bottom: 56 };
const SERIES = [
  { key: 'trainLoss', name: 'train', color: '#1f6fb4' },
  { key: 'heldOutLoss', name: 'held-out', color: '#d1492e' },
] as const;

/** The learning curve as an SVG document: bits per `unit` against steps. */
export function curveSVG(rows: readonly Row[], title: string, unit: string): string {
  const series = SERIES.map((s) => ({ ...s, points: rows.filter((r) => Number.isFinite(r[s.key])).map((r) => ({ step: r.step, bits: r[s.key] / Math.LN2 })) }))
    .filter((s) => s.points.length > 0);
  const all = series.flatMap((s) => s.points);
  const bits = all.map((p) => p.bits);
  const xTicks = ticks(0, Math.max(1, largest(all.map((p) => p.step))), 8);
  const yTicks = ticks(-largest(bits.map((b) => -b)), largest(bits), 6);
  const [x0, x1] = [xTicks[0], xTicks[xTicks.length - 1]], [y0, y1] = [yTicks[0], yTicks[yTicks.length - 1]];
  const px = (step: number) => M.left + ((step - x0) / (x1 - x0)) * (W - M.left - M.right);
  const py = (bits: number) => H - M.bottom - ((bits - y0) / (y1 - y0)) * (H - M.top - M.bottom);
  const r2 = (v: number) => Math.round(v * 100) / 100;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${M.left}" y="24" font-size="15" font-weight="600">${xml(title)}</text>`,
    `<g class="grid" stroke="#e4e4e4">`,
    ...yTicks.map((v) => `<line x1="${M.left}" x2="${W - M.right}" y1="${r2(py(v))}" y2="${r2(py(v))}"/>`),
    ...xTicks.map((v) => `<line x1="${r2(px(v))}" x2="${r2(px(v))}" y1="${M.top}" y2="${H - M.bottom}"/>`),
    `</g>`,
    `<g class="axes" fill="#333">`,
    ...yTicks.map((v) => `<text x="${M.left - 8}" y="${r2(py(v) + 4)}" text-anchor="end">${label(v)}</text>`),
    ...xTicks.map((v) => `<text x="${r2(px(v))}" y="${H - M.bottom + 18}" text-anchor="middle">${label(v)}</text>`),
    `<text x="${(M.left + W - M.right) / 2}" y="${H - 14}" text-anchor="middle">optimizer step</text>`,
    `<text transform="translate(18 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">bits per ${xml(unit)}</text>`,
    `</g>`,
  ];
  for (const s of series) {
    out.push(`<g class="series" data-series="${s.name}" stroke="${s.color}" fill="${s.color}">`,
      `<polyline fill="none" stroke-width="1.8" points="${s.points.map((p) => `${r2(px(p.step))},${r2(py(p.bits))}`).join(' ')}"/>`);
    // one push per point: spreading a long run's points would overflow the call stack
    for (const p of s.points) {
      out.push(`<circle class="point" cx="${r2(px(p.step))}" cy="${r2(py(p.bits))}" r="2.5" data-step="${p.step}" data-value="${p.bits}">` +
        `<title>step ${p.step}: ${p.bits.toFixed(3)} bits per ${xml(unit)} (${s.name})</title></circle>`);
    }
    out.push(`</g>`);
  }
  series.forEach((s, i) => {
    const y = M.top + 6 + 18 * i, x = W - M.right - 110;
    out.push(`<g class="legend"><line x1="${x}" x2="${x + 22}" y1="${y}" y2="${y}" stroke="${s.color}" stroke-width="2.5"/>` +
      `<text x="${x + 28}" y="${y + 4}">${s.name}</text></g>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** Round tick values covering [lo, hi], about n of them (steps of 1, 2 or 5 × 10^k). */
function ticks(lo: number, hi: number, n: number): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (hi - lo < 1e-9) [lo, hi] = [lo - 0.5, hi + 0.5];
  const raw = (hi - lo) / n, p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.floor(lo / step) * step; v < hi + step * 0.999; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function label(v: number): string {
  return Math.abs(v) >= 1e4 ? `${Number((v / 1000).toPrecision(6))}k` : String(Number(v.toPrecision(6)));
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
