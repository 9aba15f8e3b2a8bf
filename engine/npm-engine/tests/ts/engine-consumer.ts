// A TypeScript project on @dynchat/engine, as its README shows it: type-checked (tsc --noEmit
// --strict) by `cargo xtask npm` against the packed package's index.d.ts, never run. A mistake in
// the published types (a missing export, a union a consumer cannot narrow) fails the check.
import { init, compile, select, simulate, Flow, Session } from '@dynchat/engine';
import type {
  Bundle, CompileResult, Diagnostic, Effect, Input, PageContext, Prompt, Selection, Seen, Status,
} from '@dynchat/engine';

const dialogue = {
  version: 1, id: 'hello', name: 'Hello',
  cards: [
    { type: 'capture', id: 'email', text: 'Your email?', kind: 'email', field: 'email', next: 'end' },
    { type: 'end', id: 'end', text: 'Thanks!' },
  ],
};

export async function run(now: number): Promise<string[]> {
  await init();
  const result: CompileResult = compile(dialogue, { leadFields: ['email'] });
  if (!result.ok) {
    const first: Diagnostic | undefined = result.diagnostics[0];
    return result.diagnostics.map((d) => `${d.path} ${d.code} ${d.severity}: ${d.message}${first === d ? ' (first)' : ''}`);
  }
  const flow: Flow = result.flow;
  const again: Flow = Flow.fromWire(flow.toWire());
  const session = new Session(again, { id: 'visit-1', now, lead: { FirstName: 'Ann' }, lang: 'en' });
  const out: string[] = [];
  const perform = (effects: Effect[]): Prompt | null => {
    let prompt: Prompt | null = null;
    for (const e of effects) {
      switch (e.type) {
        case 'show': out.push(e.text + (e.link ? ` (${e.link[1]}: ${e.link[0]})` : '')); break;
        case 'ask': prompt = e.prompt; break;
        case 'reprompt': out.push('! ' + e.message); break;
        case 'capture': out.push(`${e.field}=${e.value}${e.overwrite ? ' (overwrite)' : ''}`); break;
        case 'book': out.push(`${e.key} ${e.start_ms}-${e.end_ms}`); break;
        case 'request_slots': out.push('queue' in e.route ? e.route.queue : 'agent' in e.route ? e.route.agent : e.route.default); break;
        case 'goal': out.push(`${e.name} +${e.score}`); break;
        case 'drop': out.push('dropped at ' + (e.card ?? 'start')); break;
        default: break;
      }
    }
    return prompt;
  };
  const start: Input = { type: 'start' };
  const prompt = perform(session.step(start, now));
  if (prompt && prompt.kind === 'field' && prompt.field === 'email') {
    perform(session.step({ type: 'text', text: 'ann@example.com' }, now + 1000));
  } else if (prompt && prompt.kind === 'choices') {
    perform(session.step({ type: 'button', index: prompt.buttons.length - 1 }, now + 1000));
  }
  const status: Status = session.status;
  const saved: string = session.save();
  const back: Session = Session.restore(flow, saved);
  const lead: Record<string, string> = back.lead;
  out.push(status, String(back.score), back.at ?? '-', lead.email ?? '', JSON.stringify(back.answers));
  const bundle: Bundle = { dialogues: [{ id: flow.id, priority: flow.priority, dialogue }] };
  const context: PageContext = { url: 'https://acme.example/pricing', now_ms: now, tz_offset_minutes: 60, lead };
  const seen: Record<string, Seen> = { [flow.id]: { shown: 1, last_shown_ms: null } };
  const picked: Selection = select(bundle, context, seen);
  out.push(picked.dialogue ?? 'none', ...picked.skipped, String(picked.watch.exit_intent));
  out.push(simulate(dialogue, ['ann@example.com'], { now, lead: {} }));
  session.free();
  back.free();
  return out;
}
