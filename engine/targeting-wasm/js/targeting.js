// dynchat targeting module glue, hand-written: the wasm exports plain functions (src/abi.rs) and imports nothing.
// Bundled into the loader (engine/web/js/core.js imports it as `dynchat-targeting-glue`; `cargo
// xtask widget` renames the exports it calls), so a page fetches the module's wasm and no script
// of its own: `targeting(response)` takes a promise of the wasm's Response and gives
// `{ Targeter, judge }`; `Targeter(bundle)` then has `select` and `update`.
const enc = new TextEncoder();
const dec = new TextDecoder();

export const targeting = (response) => response
  .then((r) => {
    // An error answer (a 404 page, a proxy's) is said as such, not as a compile error.
    if (!r.ok) throw Error('dynchat: targeting module ' + r.status);
    // Compiled as it streams in when served as wasm; else (no header tests as "null") from its bytes.
    return /^application\/wasm\b/i.test(r.headers.get('Content-Type'))
      ? WebAssembly.instantiateStreaming(r, {})
      : r.arrayBuffer().then((b) => WebAssembly.instantiate(b, {}));
  })
  .then(({ instance: { exports: w } }) => {
    // Copies a string into a buffer the module takes back (and frees) on the call.
    const put = (s) => {
      const b = enc.encode(s), p = w.dc_alloc(b.length);
      new Uint8Array(w.memory.buffer, p, b.length).set(b);
      return [p, b.length];
    };
    return {
      // A branch rule of the chat module, `[audience, facts]` as JSON: 1 holds, 0 does not, 2 unreadable.
      judge: (query) => w.targeter_judge(...put(query)),
      // `Targeter(bundle)`: `select` and `update` answer JSON, which the module keeps only until
      // the next call.
      Targeter: (bundle) => {
        const h = w.targeter_new(...put(bundle));
        const out = (n) => dec.decode(new Uint8Array(w.memory.buffer, w.targeter_out(h), n));
        return {
          select: (page, seen) => out(w.targeter_select(h, ...put(page), ...put(seen))),
          // A boolean passes as 1 or 0 (an i32 parameter).
          update: (timeOnPage, scroll, exitIntent, nowMs) => out(w.targeter_update(h, timeOnPage, scroll, exitIntent, nowMs)),
        };
      },
    };
  });
