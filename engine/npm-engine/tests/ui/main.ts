// A custom chat UI on @dynchat/engine (plain TypeScript, built with Vite): the host renders the
// effects `Session.step` returns, turns clicks and typing into inputs, and plays the calendar
// (three slots tomorrow at 10:00, 11:00 and 14:00 UTC; every booking succeeds), like `simulate`.
import { init, compile, Session } from '@dynchat/engine';
import type { Effect, Input, Prompt } from '@dynchat/engine';
import dialogue from './dialogue.json';

const params = new URLSearchParams(location.search);
let now = Number(params.get('now') ?? Date.now());
const log = document.getElementById('log') as HTMLOListElement;
const controls = document.getElementById('controls') as HTMLDivElement;
const statusLine = document.getElementById('status') as HTMLParagraphElement;
const events: string[] = [];
(window as unknown as { __events: string[] }).__events = events;

/** `2027-01-05 11:00 UTC`, the way the simulator labels a slot. */
function utc(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}

/** Bot text is plain text with the author's markdown; inserted values come escaped (`\[`). */
function plain(text: string): string {
  return text.replace(/\\([\\*[\]()])/g, '$1');
}

function say(who: 'bot' | 'reprompt' | 'visitor', text: string): void {
  const li = document.createElement('li');
  li.className = who;
  li.textContent = text;
  log.append(li);
}

function button(label: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  b.addEventListener('click', onClick);
  return b;
}

function textBox(placeholder: string | null): HTMLFormElement {
  const form = document.createElement('form');
  const box = document.createElement('input');
  box.name = 'answer';
  box.placeholder = placeholder ?? '';
  box.setAttribute('aria-label', 'Your answer');
  form.append(box, button('Send', () => form.requestSubmit()));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = box.value;
    box.value = '';
    send({ type: 'text', text }, text);
  });
  return form;
}

function ask(prompt: Prompt): void {
  controls.replaceChildren();
  if (prompt.kind === 'choices') {
    prompt.buttons.forEach((b, index) => controls.append(button(b.label, () => send({ type: 'button', index }, b.label))));
    if (prompt.free_text !== null) controls.append(textBox(prompt.free_text));
  } else if (prompt.kind === 'field') {
    controls.append(textBox(prompt.placeholder));
  }
}

function offerSlots(at: number): void {
  const day = Math.floor(at / 86_400_000) + 1;
  controls.replaceChildren();
  for (const hour of [10, 11, 14]) {
    const start = day * 86_400_000 + hour * 3_600_000;
    controls.append(button(utc(start), () => send({ type: 'slot_chosen', start_ms: start, end_ms: start + 1_800_000 }, utc(start))));
  }
  controls.append(button('No time suits me', () => send({ type: 'booking_result', result: { status: 'declined' } }, 'No time suits me')));
}

let session: Session;
let booked = 0;

/** Performs the effects in order; returns a booking the calendar must answer, if any. */
function perform(effects: Effect[]): Input | null {
  let next: Input | null = null;
  for (const e of effects) {
    switch (e.type) {
      case 'show':
        say('bot', plain(e.text));
        break;
      case 'ask':
        ask(e.prompt);
        break;
      case 'reprompt':
        say('reprompt', e.message);
        break;
      case 'answer':
      case 'book':
        controls.replaceChildren();
        if (e.type === 'book') {
          booked += 1;
          const agent = 'queue' in e.route ? `Agent ${booked} of queue ${e.route.queue}` : 'agent' in e.route ? e.route.agent : e.route.default;
          next = { type: 'booking_result', result: { status: 'booked', meeting_id: `m${booked}`, agent, time: utc(e.start_ms) } };
        }
        break;
      case 'request_slots':
        offerSlots(now);
        break;
      case 'emit':
        events.push(e.event);
        break;
      case 'complete':
      case 'drop':
        controls.replaceChildren();
        break;
      case 'capture':
      case 'goal':
      case 'ignored':
        break;
    }
  }
  statusLine.textContent = `${session.status}, score ${session.score}`;
  return next;
}

function send(input: Input, echo: string): void {
  say('visitor', echo);
  now += 5000;
  let next = perform(session.step(input, now));
  while (next) {
    now += 5000;
    next = perform(session.step(next, now));
  }
}

async function main(): Promise<void> {
  await init();
  const result = compile(dialogue);
  if (!result.ok) {
    statusLine.textContent = result.diagnostics.map((d) => `${d.path}: ${d.message}`).join('\n');
    return;
  }
  session = new Session(result.flow, { id: 'ui-visitor', now });
  perform(session.step({ type: 'start' }, now));
}

main().catch((e: Error) => {
  statusLine.textContent = `error: ${e.message}`;
});
