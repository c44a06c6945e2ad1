// What every benchmark script reports with: the machine, markdown tables, medians, number
// formatting, and its own section of RESULTS.md (replaced on every run, the rest kept).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';

export const RESULTS = new URL('./RESULTS.md', import.meta.url);

export const fmt = (x, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : '—');
export const mark = (ok) => (ok ? '✔' : '✘');
export const median = (xs) => { const s = xs.slice().sort((a, b) => a - b); return (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2; };

export function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** CPU model, cores, platform and Node version. */
export function machine() {
  return `${cpuModel()}, ${os.cpus().length} cores, ${os.platform()} ${os.arch()}, Node ${process.version}`;
}

/** The CPU's name, with its family and model numbers where the name alone does not tell the
 *  generation (a VM's "AMD EPYC" is Zen 3 as well as Zen 5). */
export function cpuModel() {
  let model = os.cpus()[0]?.model ?? 'unknown';
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    model = info.match(/^model name\s*:\s*(.*)$/m)?.[1] ?? model;
    const family = info.match(/^cpu family\s*:\s*(\d+)$/m)?.[1], number = info.match(/^model\s*:\s*(\d+)$/m)?.[1];
    if (family !== undefined && number !== undefined) model += ` (family ${family}, model ${number})`;
  } catch { /* not Linux */ }
  return model;
}

/** The CPU's SIMD flags that matter for f32 math (Linux; empty elsewhere). */
export function simdFlags() {
  try {
    const flags = new Set(readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:\s*(.*)$/m)?.[1].split(/\s+/));
    return ['sse4_2', 'avx', 'avx2', 'fma', 'avx512f', 'avx512_vnni'].filter((f) => flags.has(f));
  } catch {
    return [];
  }
}

/** Replace the section under `heading` in RESULTS.md (or append it), keeping every other one. */
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
  return RESULTS.pathname;
}

const RELAXED_FLAG = '--experimental-wasm-relaxed-simd';

/** Node 20 validates relaxed SIMD only behind a flag: unless `supported`, run this script again
 *  with the flag (when this Node accepts it) and exit with its status, so the relaxed build is
 *  measured too. Node 22+ and Chrome 114+ validate it without a flag. */
export function rerunWithRelaxedSimd(supported) {
  if (supported || process.execArgv.includes(RELAXED_FLAG)) return;
  try {
    execFileSync(process.execPath, [RELAXED_FLAG, '-e', ''], { stdio: 'ignore' });
  } catch {
    return;   // this Node does not know the flag
  }
  const again = spawnSync(process.execPath, [RELAXED_FLAG, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(again.status ?? 1);
}
