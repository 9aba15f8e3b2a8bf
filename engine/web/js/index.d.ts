// Types of @dynchat/widget (the npm package); window.dynchat has the same methods.
export type DynchatEvent =
  | 'triggered' | 'engaged' | 'completed' | 'closed' | 'email' | 'phone' | 'meeting-booked' | 'goal'
  | 'lead-refused';

export interface DynchatDetail {
  /** Every event but lead-refused. */
  dialogue?: string;
  hash?: string;
  session?: string;
  /** triggered: the experiment variant this visitor sees, when the dialogue has an experiment. */
  variant?: string;
  /** email / phone: the captured field and value. */
  field?: string;
  value?: string;
  /** goal */
  name?: string;
  score?: number;
  /** meeting-booked */
  meeting?: string;
  agent?: string;
  time?: string;
  /** lead-refused: the API's status, the lead's Idempotency-Key and its error (field, message). */
  status?: number;
  key?: string;
  error?: { code?: string; field?: string; message?: string } | null;
}

export interface InitOptions {
  /** Site id, as in data-site. */
  site: string;
  /** API origin, e.g. https://chat.example.com (the worker). */
  endpoint: string;
  /** 'required': store nothing in the browser until consent(true). */
  consent?: 'required' | boolean;
}

export function init(options: InitOptions): void;
export function open(): void;
export function close(): void;
export function on(event: DynchatEvent, fn: (detail: DynchatDetail) => void): void;
export function off(event: DynchatEvent, fn: (detail: DynchatDetail) => void): void;
/** Known lead fields, e.g. { email, firstName }: used by tokens, branches and skip-if-known. */
export function identify(fields: Record<string, string>): void;
/** Grant (true) or withdraw (false) consent to store data in the browser. */
export function consent(granted: boolean): void;

declare const dynchat: {
  init: typeof init; open: typeof open; close: typeof close; on: typeof on; off: typeof off;
  identify: typeof identify; consent: typeof consent;
};
export default dynchat;
