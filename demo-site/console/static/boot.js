// Starts the console (wasm-bindgen's module) from a file, not an inline script: the console's
// Content-Security-Policy allows scripts from its own origin only (edge-worker/src/csp.rs).
import init from './console.js';

init();
