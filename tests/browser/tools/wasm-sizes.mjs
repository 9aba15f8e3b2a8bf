// Lists the largest functions of a wasm module by name (needs a name section: build with strip = false).
import { readFileSync } from 'node:fs';
const buf = readFileSync(process.argv[2]);
let p = 8;
const u = () => { let r = 0, s = 0, b; do { b = buf[p++]; r |= (b & 127) << s; s += 7; } while (b & 128); return r >>> 0; };
let imports = 0, bodies = [], names = new Map();
while (p < buf.length) {
  const id = buf[p++]; const len = u(); const end = p + len;
  if (id === 2) { const n = u(); for (let i = 0; i < n; i++) { let l = u(); p += l; l = u(); p += l; const k = buf[p++]; if (k === 0) { u(); imports++; } else if (k === 1) { p++; const f = u(); u(); if (f & 1) u(); } else if (k === 2) { const f = u(); u(); if (f & 1) u(); } else { p += 2; } } }
  if (id === 10) { const n = u(); for (let i = 0; i < n; i++) { const l = u(); bodies.push(l); p += l; } }
  if (id === 0) { const nl = u(); const nm = buf.subarray(p, p + nl).toString(); p += nl;
    if (nm === 'name') { while (p < end) { const sid = buf[p++]; const sl = u(); const se = p + sl; if (sid === 1) { const n = u(); for (let i = 0; i < n; i++) { const idx = u(); const l = u(); names.set(idx, buf.subarray(p, p + l).toString()); p += l; } } p = se; } } }
  p = end;
}
const rows = bodies.map((s, i) => [s, names.get(i + imports) || `#${i + imports}`]).sort((a, b) => b[0] - a[0]);
console.log('total code', bodies.reduce((a, b) => a + b, 0), 'functions', bodies.length);
for (const [s, n] of rows.slice(0, +(process.argv[3] || 40))) console.log(s, n.slice(0, 150));
