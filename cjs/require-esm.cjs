// require('rnn-wasm') and require('rnn-wasm/node'): the package is ES modules, and these
// CommonJS entries hand back the very same modules through Node's require(esm) (on by default
// from Node 20.19 and 22.12), so a process that both imports and requires the package shares
// one copy, one WebAssembly instance and one set of classes. Where require(esm) is missing or
// turned off (--no-experimental-require-module), the error says to use import() instead.
'use strict';

/** Run `load` (a require of an ES module); turn Node's "cannot require an ES module" errors
 *  into one that says what to do. */
exports.requireESM = function requireESM(load, specifier) {
  try {
    return load();
  } catch (e) {
    if (!e || (e.code !== 'ERR_REQUIRE_ESM' && e.code !== 'ERR_REQUIRE_ASYNC_MODULE')) throw e;
    const error = new Error(
      `${specifier} is an ES module, and this Node.js (${process.version}) cannot require() it ` +
      `(require(esm) needs Node 20.19+ or 22.12+, without --no-experimental-require-module). ` +
      `Load it with import() instead: const lib = await import('${specifier}');`,
      { cause: e });
    error.code = e.code;
    throw error;
  }
};
