// @dynchat/engine for browsers and bundlers (Vite, webpack, esbuild): the wasm-bindgen `web` glue,
// which fetches engine_bg.wasm next to this module. Call `await init()` once before anything else.
// `init` is a named export only: Node's entry cannot give a CommonJS module a callable default.
import load, { initSync as loadSync, compile as compileRaw, select as selectRaw, simulate as simulateRaw } from './engine.js';

export { Flow, Session } from './engine.js';

let loading = null;
let loaded = false;

/** Loads the wasm module; later calls return the same promise. */
export function init(input) {
  loading ??= load(input === undefined ? undefined : { module_or_path: input }).then(() => {
    loaded = true;
  });
  return loading;
}

/** Loads the wasm module from its bytes or a compiled `WebAssembly.Module`, synchronously. */
export function initSync(module) {
  if (!loaded) loadSync({ module });
  loaded = true;
}

function ready(what) {
  if (!loaded) throw new Error(`@dynchat/engine: ${what} before the wasm is loaded: call \`await init()\` first`);
}

export function compile(json, options) {
  ready('compile');
  return compileRaw(json, options);
}

export function select(bundle, context, seen) {
  ready('select');
  return selectRaw(bundle, context, seen);
}

export function simulate(json, answers, options) {
  ready('simulate');
  return simulateRaw(json, answers, options);
}

