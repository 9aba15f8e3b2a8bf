/// <reference lib="esnext.disposable" />
// Types of @dynchat/engine. engine.d.ts is wasm-bindgen's output for the classes and functions,
// with the effect, input and context shapes (src/types.d.ts of the crate) inside it. Its classes
// declare `[Symbol.dispose]` (`using`); the reference above brings that declaration (TypeScript
// 5.2 or later), so a project on lib ES2022 type-checks without skipLibCheck.
import type { InitInput } from './engine.js';

export { Flow, Session, compile, select, simulate } from './engine.js';
export type {
  Booking, Bundle, BrowserEvent, CaptureKind, Choice, CompileOptions, CompileResult, Diagnostic,
  Effect, Input, PageContext, Prompt, Route, Seen, Selection, SessionOptions, Severity,
  SimulateOptions, Status,
} from './engine.js';

/**
 * Loads the wasm module. Browsers and bundlers: fetches `engine_bg.wasm` next to the module (or
 * `input`); call and await it once before anything else. Node: the module is already loaded and
 * this resolves at once.
 */
export function init(input?: InitInput | Promise<InitInput>): Promise<void>;
/** Loads the wasm module synchronously from its bytes or a compiled module (no-op on Node). */
export function initSync(module?: BufferSource | WebAssembly.Module): void;
