// @dynchat/widget: the same widget as the script tag, as an ES module for bundlers (Vite, webpack, esbuild).
import { createDynchat } from './core.js';

// The wasm is fetched (and compiled as it streams in) while its JavaScript glue loads.
const load = async (glue, url) => {
  const wasm = fetch(url);
  wasm.catch(() => {});
  const m = await glue();
  await m.default({ module_or_path: wasm });
  return m;
};

const d = createDynchat({
  targeting: () => fetch(new URL('./targeting_bg.wasm', import.meta.url)), // its glue is in core.js
  chat: () => load(() => import('./chat.js'), new URL('./chat_bg.wasm', import.meta.url)),
});

export const init = (o) => d.init(o);
export const open = () => d.open();
export const close = () => d.close();
export const on = (name, fn) => d.on(name, fn);
export const off = (name, fn) => d.off(name, fn);
export const identify = (fields) => d.identify(fields);
export const consent = (yes) => d.consent(yes);
export default { init, open, close, on, off, identify, consent };
