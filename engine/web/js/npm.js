// @dynchat/widget: the same widget as the script tag, as an ES module for bundlers (Vite, webpack, esbuild).
import { createDynchat } from './core.js';

const load = async (m, wasm) => {
  await m.default({ module_or_path: wasm });
  return m;
};

const d = createDynchat({
  targeting: async () => load(await import('./targeting.js'), new URL('./targeting_bg.wasm', import.meta.url)),
  chat: async () => load(await import('./chat.js'), new URL('./chat_bg.wasm', import.meta.url)),
});

export const init = (o) => d.init(o);
export const open = () => d.open();
export const close = () => d.close();
export const on = (name, fn) => d.on(name, fn);
export const off = (name, fn) => d.off(name, fn);
export const identify = (fields) => d.identify(fields);
export const consent = (yes) => d.consent(yes);
export default { init, open, close, on, off, identify, consent };
