// dynchat targeting module glue, hand-written: the wasm exports plain functions (src/abi.rs) and imports nothing.
// Same surface as wasm-bindgen's `--target web` glue that the loader used before:
// `await init({ module_or_path })` (a URL, a Response or a promise of either), then `new Targeter(bundle)`.
let w;
const enc = new TextEncoder();
const dec = new TextDecoder();

// Instantiates the module once: a second call (the loader included twice on a page) gets the same
// instance, never a new one under Targeters of the first; a failed start may be tried again.
let ready;
export default function init(o) {
  return (ready ||= start(o).catch((e) => { ready = undefined; throw e; }));
}
async function start(o) {
  const src = await o?.module_or_path;
  const res = src instanceof Response ? src : await fetch(src);
  // No header tests as "null": not wasm.
  const streaming = /^application\/wasm\b/i.test(res.headers.get('Content-Type'));
  const { instance } = await (streaming
    ? WebAssembly.instantiateStreaming(res, {})
    : res.arrayBuffer().then((b) => WebAssembly.instantiate(b, {})));
  w = instance.exports;
}

// Copies a string into a buffer the module takes back (and frees) on the call.
const put = (s) => {
  const b = enc.encode(s);
  const p = w.dc_alloc(b.length);
  new Uint8Array(w.memory.buffer, p, b.length).set(b);
  return [p, b.length];
};

// A branch rule of the chat module, `[audience, facts]` as JSON: 1 holds, 0 does not, 2 unreadable.
export const judge = (query) => w.targeter_judge(...put(query));

// `new Targeter(bundle)` (or without `new`): `select` and `update` answer JSON, which the module
// keeps only until the next call.
export function Targeter(bundle) {
  const h = w.targeter_new(...put(bundle));
  const out = (n) => dec.decode(new Uint8Array(w.memory.buffer, w.targeter_out(h), n));
  return {
    select: (page, seen) => out(w.targeter_select(h, ...put(page), ...put(seen))),
    // A boolean passes as 1 or 0 (an i32 parameter).
    update: (timeOnPage, scroll, exitIntent, nowMs) => out(w.targeter_update(h, timeOnPage, scroll, exitIntent, nowMs)),
  };
}
