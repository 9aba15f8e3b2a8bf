// dynchat chat module glue, hand-written: the wasm (engine/web) exports plain functions (src/abi.rs)
// and imports the DOM, timers and the host from module `a` (src/ffi.rs). `await init({ module_or_path })`
// (a URL, a Response or a promise of either; as wasm-bindgen's `--target web` glue it replaced),
// `language(config, page, browser)`, `create(host, ...)` and its methods.
let w, pend;
const enc = new TextEncoder();
// ignoreBOM: a leading U+FEFF is text too (as wasm-bindgen's glue decoded it).
const dec = new TextDecoder('utf-8', { ignoreBOM: true });
const u8 = (p, n) => new Uint8Array(w.memory.buffer, p, n);
const str = (p, n) => dec.decode(u8(p, n));

// Capture-card patterns by the browser's RegExp: the whole answer, in Unicode mode or, for a
// pattern only the lenient mode accepts (escaped punctuation such as `\#`), without it; a leading
// `(?i)` is the `i` flag. A pattern the browser cannot build matches nothing.
export const pattern = (p, s) => {
  const i = p.startsWith('(?i)'), b = i ? p.slice(4) : p;
  for (const u of ['u', '']) { try { return new RegExp('^(?:' + b + ')$', (i ? 'i' : '') + u).test(s); } catch (e) {} }
  return false;
};
export const cased = (s, up) => (up ? s.toUpperCase() : s.toLowerCase());

// The objects the module holds, by number (0: none); `dc_free` gives a number back.
const o = [0], spare = [];
const keep = (x) => {
  if (x == null) return 0;
  const h = spare.pop() ?? o.length;
  o[h] = x;
  return h;
};
// A string answer: its length in bytes (-1: none); the module then has it copied (`dc_take`).
const ret = (s) => (s == null ? -1 : (pend = enc.encode(s)).length);
// A string the module takes back (and frees) on the call; null: none.
const put = (s) => {
  if (s == null) return [0, 0];
  const b = enc.encode(s), p = w.dc_alloc(b.length);
  u8(p, b.length).set(b);
  return [p, b.length];
};
const out = (n) => str(w.dc_out(), n);

const imports = { a: {
  dc_create: (svg, p, n) => keep(svg ? document.createElementNS('http://www.w3.org/2000/svg', str(p, n)) : document.createElement(str(p, n))),
  dc_set_attr: (h, p, n, q, m) => o[h].setAttribute(str(p, n), str(q, m)),
  dc_remove_attr: (h, p, n) => o[h].removeAttribute(str(p, n)),
  dc_get_attr: (h, p, n) => ret(o[h].getAttribute(str(p, n))),
  dc_append: (h, c) => o[h].appendChild(o[c]),
  dc_insert: (h, c, b) => o[h].insertBefore(o[c], o[b]),
  dc_append_text: (h, p, n) => o[h].append(str(p, n)),
  dc_set_text: (h, p, n) => { o[h].textContent = str(p, n); },
  dc_find: (h, p, n) => keep(o[h].querySelector(str(p, n))),
  dc_closest: (h, p, n) => keep(o[h].closest(str(p, n))),
  dc_value: (h) => ret(o[h].value),
  dc_focus: (h) => o[h].focus(),
  dc_remove: (h) => o[h].remove(),
  dc_scroll_end: (h) => { o[h].scrollTop = o[h].scrollHeight; },
  dc_active: (h) => keep((h ? o[h] : document).activeElement),
  dc_same: (a, b) => o[a] === o[b],
  dc_body: () => keep(document.body),
  // The shadow root with its constructed stylesheet and one listener per event type.
  dc_shadow: (h, p, n, l) => {
    try {
      const r = o[h].attachShadow({ mode: 'open' }), s = new CSSStyleSheet();
      s.replaceSync(str(p, n));
      r.adoptedStyleSheets = [s];
      ['click', 'keydown', 'submit'].forEach((k, i) => r.addEventListener(k, (e) => w.dc_event(l, i, keep(e))));
      return keep(r);
    } catch (e) { return 0; }
  },
  dc_free: (h) => { o[h] = 0; spare.push(h); },
  dc_target: (h) => { const t = o[h].target; return t instanceof Element ? keep(t) : 0; },
  dc_key: (h) => ret(o[h].key),
  dc_stop: (h) => o[h].stopPropagation(),
  dc_prevent: (h) => o[h].preventDefault(),
  dc_timeout: (id, ms) => setTimeout(() => w.dc_timer(id), ms),
  // The host is an array of its methods by number (src/shell.rs; js/chat.js).
  dc_call: (h, m, a, b, c, d) => o[h][m](str(a, b), str(c, d)),
  dc_pattern: (a, b, c, d) => pattern(str(a, b), str(c, d)),
  dc_case: (p, n, up) => ret(cased(str(p, n), up)),
  dc_now: () => Date.now(),
  dc_take: (p) => u8(p, pend.length).set(pend),
} };

// Instantiates the module once: a second call (the loader included twice on a page) gets the same
// instance, never a new one under chats the first one runs; a failed start may be tried again.
let ready;
export default function init(x) {
  return (ready ||= start(x).catch((e) => { ready = undefined; throw e; }));
}
async function start(x) {
  const src = await (x && x.module_or_path);
  const res = src instanceof Response ? src : await fetch(src);
  // No header tests as "null": not wasm.
  const streaming = /^application\/wasm\b/i.test(res.headers.get('Content-Type'));
  const { instance } = await (streaming
    ? WebAssembly.instantiateStreaming(res, imports)
    : res.arrayBuffer().then((b) => WebAssembly.instantiate(b, imports)));
  w = instance.exports;
}

// The conversation's language (src/lib.rs `language`): `language(config, page, browser)`.
export const language = (...a) => out(w.language(...a.flatMap(put)));

// A conversation (src/abi.rs `chat_new`): its methods close over the module's pointer to it.
export const create = (host, ...args) => {
  const p = w.chat_new(keep(host), ...args.flatMap(put));
  if (!p) throw new Error(out(w.dc_out_len()));
  return {
    open: () => w.chat_open(p),
    close: () => w.chat_close(p),
    end: () => w.chat_end(p),
    slots: (json) => w.chat_slots(p, ...put(json)),
    booking: (json) => w.chat_booking(p, ...put(json)),
    // A boolean passes as 1 or 0 (an i32 parameter).
    requested: (ok) => w.chat_requested(p, ok),
    identify: (fields) => w.chat_identify(p, ...put(fields)),
    status: () => out(w.chat_status(p)),
    destroy: () => w.chat_destroy(p),
  };
};
