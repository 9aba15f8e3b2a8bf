// The engine's JSON shapes as TypeScript, written by hand and appended to wasm-bindgen's output
// (lib.rs: typescript_custom_section). Each union variant sits on one line starting with its tag;
// tests/types_sync.rs serialises every Rust variant and checks its tag and keys against these lines.

/** A finding about a dialogue file: JSON path (`$.cards[2].next`), stable code, message. */
export interface Diagnostic { path: string; code: string; message: string; severity: Severity }
export type Severity = "error" | "warning";

/** What `compile` returns: a flow when the dialogue has no error; always every finding. */
export type CompileResult =
  | { ok: true; flow: Flow; diagnostics: Diagnostic[] }
  | { ok: false; flow: undefined; diagnostics: Diagnostic[] };

export interface CompileOptions {
  /** Your Marketo instance's lead field names: other fields are reported (`unknown_field`). */
  leadFields?: string[];
}

/** What a capture card asks for. */
export type CaptureKind = "name" | "email" | "phone" | "company" | "text";

/** Who a meeting is booked with: a round-robin queue or one agent. */
export type Route =
  | { queue: string }
  | { agent: string }
  // Routing rules; a compiled flow keeps only the default (the worker evaluates the rules).
  | { rules: { when: unknown; queue: string }[]; default: string; owner_field?: string };

/** A button: what it shows and the value stored when it is picked. */
export interface Choice { label: string; value: string }

/** What the visitor is asked for (`Effect` `ask`). */
export type Prompt =
  | { kind: "choices"; buttons: Choice[]; free_text: string | null }
  | { kind: "field"; field: CaptureKind; placeholder: string | null }
  | { kind: "slots" };

/** Events a browser host dispatches as `dynchat:<name>`. */
export type BrowserEvent = "engaged" | "completed" | "closed" | "email" | "phone" | "meeting-booked" | "goal";

/** How a booking or a slot lookup ended (`Input` `booking_result`). */
export type Booking =
  | { status: "booked"; meeting_id: string; agent: string; time: string }
  | { status: "slot_taken" }
  | { status: "no_slots" }
  | { status: "declined" }
  /** `reason`: `"offline"` or `"server"` (any other text gets the generic message; it is never shown). */
  | { status: "failed"; reason: string };

/** What the host passes to `Session.step`. */
export type Input =
  | { type: "start" }
  | { type: "button"; index: number }
  | { type: "text"; text: string }
  | { type: "slot_chosen"; start_ms: number; end_ms: number }
  | { type: "booking_result"; result: Booking }
  | { type: "timeout" }
  | { type: "close" };

/** What the host must do, in order (`Session.step` returns a list). */
export type Effect =
  | { type: "show"; card: string; text: string; delay_ms: number; image?: string; link?: [url: string, label: string] }
  | { type: "ask"; card: string; prompt: Prompt }
  | { type: "reprompt"; card: string; message: string }
  | { type: "answer"; card: string; value: string }
  | { type: "capture"; field: string; value: string; overwrite: boolean }
  | { type: "request_slots"; card: string; route: Route }
  | { type: "book"; card: string; route: Route; start_ms: number; end_ms: number; key: string }
  | { type: "goal"; card: string; name: string; score: number }
  | { type: "emit"; event: BrowserEvent }
  | { type: "complete" }
  | { type: "drop"; card: string | null }
  | { type: "ignored"; reason: string };

/** Where a conversation stands. */
export type Status = "new" | "active" | "completed" | "dropped";

/** Options of `new Session(flow, options)`. */
export interface SessionOptions {
  /** Your unique id for this conversation (at most 64 characters are kept; used in booking keys). */
  id: string;
  /** Milliseconds since the Unix epoch. */
  now: number;
  /** Lead fields already known about the visitor (`{ FirstName: "Ann" }`). */
  lead?: Record<string, string>;
  /**
   * The conversation's language, a tag like `de` or `de-AT` (default English): the engine's own
   * texts (re-prompts, booking messages) and the dialogue's translations for that language.
   */
  lang?: string;
}

/** The page and visitor facts targeting reads (`select`); every field is optional. */
export interface PageContext {
  url?: string;
  title?: string;
  referrer?: string;
  time_on_page_s?: number;
  scroll_depth_pct?: number;
  visits?: number;
  exit_intent?: boolean;
  /** `desktop`, `tablet` or `mobile`. */
  device?: string;
  /** ISO country code. */
  country?: string;
  /** Milliseconds since the Unix epoch. */
  now_ms?: number;
  /** The visitor's offset from UTC in minutes (local = UTC + offset). */
  tz_offset_minutes?: number;
  lead?: Record<string, string>;
  company?: Record<string, string>;
  /** Last time (ms since the epoch) of each `activity.<type>` the visitor had (the worker's traits answer). */
  activity?: Record<string, number>;
}

/** What one visitor has seen of one dialogue (frequency rules). */
export interface Seen { shown?: number; last_shown_ms?: number | null; completed?: boolean }

/** A site bundle (`GET /v1/sites/{site}/bundle`) or any `{ dialogues: [{ id, priority?, dialogue }] }`. */
export interface Bundle { dialogues: { id: string; priority?: number; dialogue: object }[] }

/** What `select` picked, what to keep watching, which bundle entries could not be read. */
export interface Selection {
  dialogue: string | null;
  watch: { time_on_page_s: number[]; scroll_depth_pct: number[]; exit_intent: boolean };
  skipped: string[];
}

/** Options of `simulate`; they win over an answers file's `# lead:` / `# now:` lines. */
export interface SimulateOptions {
  lead?: Record<string, string>;
  now?: number;
}
