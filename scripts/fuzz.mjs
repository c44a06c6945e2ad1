// The fuzz tests at full size: many more seeded mutations of model files and training states
// than `npm test` runs, from a fresh seed (printed, so a failure can be replayed).
// Usage: npm run fuzz [-- runs [seed]]     e.g. npm run fuzz -- 100000 42
import { spawn } from 'node:child_process';

const runs = process.argv[2] ?? '50000';
const seed = process.argv[3] ?? String(Math.floor(Math.random() * 2 ** 31));
console.log(`fuzz: FUZZ_RUNS=${runs} FUZZ_SEED=${seed}`);
const child = spawn(process.execPath, ['scripts/test.mjs', '^fuzz_'], {
  env: { ...process.env, FUZZ_RUNS: runs, FUZZ_SEED: seed }, stdio: 'inherit',
});
child.on('close', (code) => process.exit(code ?? 1));
