// The script-tag entry: <script src=".../widget/loader.js" data-site="acme" async></script>.
// This file's URL never changes (short cache + ETag); the modules it loads are `{name}.{hash}.js`
// and `.wasm` (one content hash per module, in `DYNCHAT_HASH`, filled in by `cargo xtask widget`
// with esbuild --define), served `immutable`.
import { createDynchat, loadModule } from './core.js';

(() => {
  const me = document.currentScript;
  const base = new URL('./', me ? me.src : location.href).href;
  const load = (name) => {
    const url = base + name + '.' + DYNCHAT_HASH[name];
    return loadModule(() => import(url + '.js'), url + '.wasm');
  };
  const queued = Array.isArray(window.dynchat) ? window.dynchat : [];
  const d = createDynchat({ targeting: () => load('targeting'), chat: () => load('chat') });
  window.dynchat = d;
  const site = me && me.dataset.site;
  if (site) {
    d.init({
      site,
      endpoint: me.dataset.endpoint || new URL(me.src).origin,
      consent: me.dataset.consent === 'required' ? 'required' : undefined,
    });
  }
  for (const [m, ...a] of queued) if (typeof d[m] === 'function') d[m](...a);
})();
