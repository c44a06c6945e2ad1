// require('rnn-wasm/node'): the ES module build itself, through require(esm) (see require-esm.cjs).
'use strict';
const { requireESM } = require('./require-esm.cjs');
module.exports = requireESM(() => require('../dist/node.js'), 'rnn-wasm/node');
