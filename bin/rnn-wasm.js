#!/usr/bin/env node
// The rnn-wasm command (package.json "bin"): train, sample, eval, info. The code is
// src/cli/ (built into dist/cli/); this file only starts it and sets the exit code.
const cli = await import('../dist/cli/main.js').catch((e) => {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND') throw e;
  console.error('rnn-wasm: dist/ is missing; in a clone of the repository, build first: npm run build');
  process.exit(1);
});
process.exitCode = await cli.main(process.argv.slice(2));
