// The script-tag entry: <script src=".../widget/loader.js" data-site="acme" async></script>.
// This file's URL never changes (short cache + ETag); the modules it loads are `{name}.{hash}.js`
// and `.wasm` (one content hash per module, in `DYNCHAT_HASH`, filled in by `cargo xtask widget`
// with esbuild --define), served `immutable`; the targeting module is its wasm alone (its glue is
// in this file: one request fewer on every page).
import { createDynchat } from './core.js';

// A second copy of the tag on the page (a hard-coded tag and a tag manager's) leaves the first
// in charge once it has started (`ready`: set by `init`); a copy that never started is replaced.
if (!window.dynchat?.ready) {
  const me = document.currentScript;
  const base = new URL('./', me ? me.src : location.href).href;
  // The wasm is fetched (and compiled as it streams in) while its JavaScript glue loads.
  const load = async (name) => {
    const url = base + name + '.' + DYNCHAT_HASH[name];
    const wasm = fetch(url + '.wasm');
    wasm.catch(() => {});
    const m = await import(url + '.js');
    await m.default({ module_or_path: wasm });
    return m;
  };
  const queued = Array.isArray(window.dynchat) ? window.dynchat : [];
  const d = createDynchat({ targeting: () => fetch(base + 'targeting.' + DYNCHAT_HASH.targeting + '.wasm'), chat: () => load('chat') });
  window.dynchat = d;
  const site = me?.dataset.site;
  if (site) {
    d.init({
      site,
      endpoint: me.dataset.endpoint || new URL(me.src).origin,
      consent: me.dataset.consent, // `init` reads only 'required'
    });
  }
  for (const [m, ...a] of queued) if (typeof d[m] === 'function') d[m](...a);
}
