// @dynchat/engine on Node: the wasm-bindgen `nodejs` glue loads engine_bg.wasm synchronously when
// this module is required or imported. `init()` resolves at once, so code shared with the browser
// entry (index.js) can await it on both.
module.exports = require('./engine.node.cjs');
module.exports.init = function init() {
  return Promise.resolve();
};
module.exports.initSync = function initSync() {};
