// Running a conversation through Session.step as a custom host does: typed effects, a slot picked
// from a host calendar, booking, save and restore in the middle, the same ending as the golden run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile, Session } from '@dynchat/engine';
import { read } from './repo.mjs';

const T0 = 1_799_053_200_000; // 2027-01-04T09:00:00Z, the simulator's clock
const flow = () => compile(read('examples/pricing-qualify.json')).flow;
const types = (effects) => effects.map((e) => e.type);

test('a conversation from start to a booked meeting', () => {
  const f = flow();
  const s = new Session(f, { id: 'visitor-1', now: T0 });
  assert.equal(s.status, 'new');
  let fx = s.step({ type: 'start' }, T0);
  assert.deepEqual(types(fx), ['show', 'show', 'ask']);
  assert.equal(fx[0].text, "Hi there 👋 I'm Ada from Northwind.");
  assert.equal(fx[2].prompt.kind, 'choices');
  assert.deepEqual(fx[2].prompt.buttons.map((b) => b.label), ['Compare plans', 'Talk to sales', 'Just browsing']);
  assert.equal(s.status, 'active');
  assert.equal(s.at, 'interest');

  fx = s.step({ type: 'button', index: 1 }, T0 + 5000);
  assert.deepEqual(fx.slice(0, 3), [
    { type: 'emit', event: 'engaged' },
    { type: 'answer', card: 'interest', value: 'sales' },
    { type: 'capture', field: 'chatInterest', value: 'sales', overwrite: true },
  ]);
  s.step({ type: 'button', index: 2 }, T0 + 10000);
  fx = s.step({ type: 'text', text: 'not-an-email' }, T0 + 15000);
  assert.deepEqual(types(fx), ['reprompt']);
  assert.equal(s.at, 'email', 'a bad answer keeps the card');

  fx = s.step({ type: 'text', text: 'ann@acme.com' }, T0 + 20000);
  const slots = fx.find((e) => e.type === 'request_slots');
  assert.deepEqual(slots.route, { queue: 'sales' });
  assert.ok(fx.some((e) => e.type === 'goal' && e.name === 'Sales-qualified' && e.score === 50));
  assert.deepEqual(s.answers, { interest: 'sales', size: '1000', email: 'ann@acme.com' });
  assert.equal(s.lead.email, 'ann@acme.com');

  const start = T0 + 86_400_000 + 2 * 3_600_000;
  fx = s.step({ type: 'slot_chosen', start_ms: start, end_ms: start + 1_800_000 }, T0 + 25000);
  const book = fx.find((e) => e.type === 'book');
  assert.equal(book.start_ms, start);
  assert.equal(typeof book.key, 'string');
  const again = Session.restore(f, s.save());
  const result = { status: 'booked', meeting_id: 'm1', agent: 'Agent 1', time: '2027-01-05 11:00 UTC' };
  fx = s.step({ type: 'booking_result', result }, T0 + 30000);
  assert.equal(fx.find((e) => e.type === 'show').text, "You're booked with Agent 1 on 2027-01-05 11:00 UTC. An invitation is on its way.");
  assert.deepEqual(fx.slice(-2), [{ type: 'emit', event: 'completed' }, { type: 'complete' }]);
  assert.equal(s.status, 'completed');
  assert.equal(s.score, 50);
  assert.deepEqual(types(s.step({ type: 'text', text: 'hello?' }, T0 + 35000)), ['ignored']);

  // The restored copy (saved while booking) ends the same way.
  assert.deepEqual(again.step({ type: 'booking_result', result }, T0 + 30000), fx);
  assert.deepEqual(JSON.parse(JSON.stringify(again)), JSON.parse(again.save()));
});

test('known lead fields fill tokens; close drops the conversation at its card', () => {
  const s = new Session(flow(), { id: 'v2', now: T0, lead: { FirstName: 'Bo' } });
  assert.equal(s.step({ type: 'start' }, T0)[0].text, "Hi Bo 👋 I'm Ada from Northwind.");
  assert.deepEqual(s.step({ type: 'close' }, T0 + 1000), [{ type: 'emit', event: 'closed' }, { type: 'drop', card: 'interest' }]);
  assert.equal(s.status, 'dropped');
  assert.equal(s.at, undefined);
});

test('a saved session is refused by another flow version and with an unknown session version', () => {
  const f = flow();
  const s = new Session(f, { id: 'v3', now: T0 });
  s.step({ type: 'start' }, T0);
  const saved = JSON.parse(s.save());
  const other = compile(read('examples/campaign-spring.json')).flow;
  assert.throws(() => Session.restore(other, saved), /Session\.restore: session belongs to another flow version/);
  assert.throws(() => Session.restore(f, { ...saved, v: 2 }), /Session\.restore: session version 2 is not supported/);
  assert.throws(() => Session.restore(f, { ...saved, at: 999 }), /Session\.restore: current card out of range/);
  assert.throws(() => Session.restore(f, '{"v":1'), /Session\.restore: stored session unreadable/);
  assert.equal(Session.restore(f, saved).at, 'interest');
});
