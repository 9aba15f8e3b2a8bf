// dynchat targeting module glue, hand-written: the wasm exports plain functions (src/abi.rs) and imports nothing.
// `await init({ module_or_path })` with the compiled module (a `WebAssembly.Module` or a promise of
// one: the loader compiles it as it streams in, `loadModule` in engine/web/js/core.js), then
// `new Targeter(bundle)`.
let w;
const enc = new TextEncoder();
const dec = new TextDecoder();

export default async function init(o) {
  w = (await WebAssembly.instantiate(await o.module_or_path, {})).exports;
}

// Copies a string into a buffer the module takes back (and frees) on the call.
const put = (s) => {
  const b = enc.encode(s);
  const p = w.dc_alloc(b.length);
  new Uint8Array(w.memory.buffer, p, b.length).set(b);
  return [p, b.length];
};

export class Targeter {
  constructor(bundle) {
    this.h = w.targeter_new(...put(bundle));
  }
  // The module keeps its answer; read it before the next call.
  out(n) {
    return dec.decode(new Uint8Array(w.memory.buffer, w.targeter_out(this.h), n));
  }
  select(page, seen) {
    return this.out(w.targeter_select(this.h, ...put(page), ...put(seen)));
  }
  update(timeOnPage, scroll, exitIntent, nowMs) {
    return this.out(w.targeter_update(this.h, timeOnPage, scroll, exitIntent ? 1 : 0, nowMs));
  }
}
