// Runs the uvu suites and ends with one summary line, "N passed, N failed".
// Usage: node scripts/test.mjs [uvu pattern]
// Node's own flags pass on to the run: `node --experimental-wasm-relaxed-simd scripts/test.mjs`
// runs the suite on Node 20 with the relaxed-SIMD build as 'auto' (what Node 22+ runs).
import { spawn } from 'node:child_process';

const args = ['node_modules/uvu/bin.js', '-r', 'tsm', 'tests', ...process.argv.slice(2), '-i', '^_', '-i', 'fixtures', '-i', 'browser/'];
const child = spawn(process.execPath, [...process.execArgv, ...args], { env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
child.stdout.on('data', (chunk) => { out += chunk; process.stdout.write(chunk); });
child.on('close', (code) => {
  const count = (label) => Number(out.match(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'm'))?.[1] ?? NaN);
  const total = count('Total'), passed = count('Passed'), skipped = count('Skipped');
  if (Number.isNaN(total) || Number.isNaN(passed)) {
    console.log('the test run ended before uvu reported totals');
    console.log('0 passed, 1 failed');
    process.exit(code || 1);
  }
  const failed = total - passed - (skipped || 0);
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(code === 0 && failed === 0 ? 0 : 1);
});
