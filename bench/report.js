// What the benchmark scripts share: a Markdown table, the median, a line describing the
// machine, and writing one script's section of RESULTS.md (replacing that section from an
// earlier run, keeping every other section).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';

export const RESULTS = new URL('./RESULTS.md', import.meta.url);

export const fmt = (x, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : '—');
export const mark = (ok) => (ok ? '✔' : '✘');

export function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export const median = (xs) => { const s = xs.slice().sort((a, b) => a - b); return (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2; };

export function machine() {
  let model = os.cpus()[0]?.model ?? 'unknown';
  try {
    model = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m)?.[1] ?? model;
  } catch { /* not Linux */ }
  return `${model}, ${os.cpus().length} cores, ${os.platform()} ${os.arch()}, Node ${process.version}`;
}

/** Replace the section that starts with `heading` in RESULTS.md (or append it), keeping every other section. */
export function writeSection(heading, text) {
  const old = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '# rnn-wasm benchmark results\n';
  const start = old.indexOf(`\n${heading}`);
  let out;
  if (start < 0) {
    out = `${old.trimEnd()}\n\n${text}`;
  } else {
    const next = old.indexOf('\n## ', start + 1);
    out = `${old.slice(0, start)}\n${text}${next < 0 ? '' : `\n${old.slice(next + 1)}`}`;
  }
  writeFileSync(RESULTS, out.endsWith('\n') ? out : `${out}\n`);
}
