// JS callers pass garbage: every public function refuses it with an Error naming the argument (a
// TypeError for a value of the wrong kind), and the session is unchanged after a refused step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as esm from '@dynchat/engine';
import { compile, select, simulate, Session, init, initSync } from '@dynchat/engine';
import { read } from './repo.mjs';

const flow = compile(read('examples/pricing-qualify.json')).flow;
const started = () => {
  const s = new Session(flow, { id: 'x', now: 0 });
  s.step({ type: 'start' }, 0);
  return s;
};

test('the package loads through import and require, and init() resolves at once on Node', async () => {
  const cjs = createRequire(import.meta.url)('@dynchat/engine');
  for (const name of ['compile', 'select', 'simulate', 'Session', 'Flow', 'init', 'initSync']) {
    assert.equal(typeof esm[name], 'function', `import: ${name}`);
    assert.equal(cjs[name], esm[name], `require: ${name}`);
  }
  await init();
  initSync();
});

test('compile: invalid JSON is a diagnostic; a non-string, non-object argument throws', () => {
  const r = compile('{"version": 1, "cards": [');
  assert.equal(r.ok, false);
  assert.equal(r.diagnostics[0].code, 'invalid_json');
  assert.equal(compile('').ok, false);
  for (const bad of [undefined, null, 42, true, () => 1]) {
    assert.throws(() => compile(bad), (e) => e instanceof TypeError && /^compile: json: expected a JSON string or an object/.test(e.message), String(bad));
  }
  assert.throws(() => compile('{}', { leadFeilds: [] }), (e) => e instanceof TypeError && /compile: options: .*unknown field `leadFeilds`, expected `leadFields`/.test(e.message));
  assert.throws(() => compile('{}', { leadFields: 'email' }), /compile: options: at leadFields: invalid type: string/);
  assert.throws(() => compile('{}', 'email'), /compile: options: expected an object, got string/);
  const big = { n: 1n };
  assert.throws(() => compile(big), /compile: json: cannot be written as JSON/);
});

test('new Session: options and flow are checked', () => {
  assert.throws(() => new Session(flow), /new Session: options: expected an object, got undefined/);
  assert.throws(() => new Session(flow, {}), /new Session: options: missing field `id`/);
  assert.throws(() => new Session(flow, { id: 'x', now: 1.5 }), /new Session: options: at now: invalid type: floating point `1.5`/);
  assert.throws(() => new Session(flow, { id: 'x', now: 0, lead: { a: 1 } }), /at lead\.a: invalid type: integer `1`, expected a string/);
  assert.throws(() => new Session({}, { id: 'x', now: 0 }), /Flow/);
});

test('step: a malformed input or clock throws and changes nothing', () => {
  const s = started();
  const before = s.save();
  const cases = [
    [['start', 0], /step: input: expected an object, got string/],
    [[null, 0], /step: input: expected an object, got null/],
    [[[{ type: 'start' }], 0], /step: input: expected an object, got an array/],
    [[{ type: 'jump' }, 0], /step: input: at type: unknown variant `jump`, expected one of `start`, `button`/],
    [[{ type: 'button' }, 0], /step: input: missing field `index`/],
    [[{ type: 'button', index: '1' }, 0], /step: input: invalid type: string "1", expected usize/],
    [[{ type: 'button', index: -1 }, 0], /step: input: invalid value: integer `-1`/],
    [[{ type: 'booking_result', result: { status: 'maybe' } }, 0], /step: input: .*unknown variant `maybe`/],
    [[{ type: 'start' }], /step: now: expected a number \(milliseconds since the epoch\), got undefined/],
    [[{ type: 'start' }, '5'], /step: now: expected a number .*got string/],
    [[{ type: 'start' }, NaN], /step: now: expected whole milliseconds since the epoch, got NaN/],
    [[{ type: 'start' }, 1.5], /step: now: expected whole milliseconds/],
  ];
  for (const [args, want] of cases) {
    assert.throws(() => s.step(...args), (e) => e instanceof TypeError && want.test(e.message), `${JSON.stringify(args)} -> ${want}`);
  }
  assert.equal(s.save(), before);
});

test('step: a button that does not exist is the visitor\'s problem, not an exception', () => {
  const s = started();
  const fx = s.step({ type: 'button', index: 99 }, 1000);
  assert.ok(fx.every((e) => e.type === 'reprompt' || e.type === 'ignored'), JSON.stringify(fx));
  assert.equal(s.at, 'interest');
});

test('Session.restore: garbage throws', () => {
  assert.throws(() => Session.restore(flow, 7), (e) => e instanceof TypeError && /Session\.restore: saved: expected a JSON string or an object, got number/.test(e.message));
  assert.throws(() => Session.restore(flow, 'not json'), /Session\.restore: stored session unreadable/);
  assert.throws(() => Session.restore(flow, { v: 1 }), /Session\.restore: stored session unreadable: missing field/);
});

test('select and simulate: garbage throws', () => {
  assert.throws(() => select('not json', {}), /select: bundle: expected ident at line 1 column 2/);
  assert.throws(() => select('{"dialogues": 3}', {}), /select: bundle: at dialogues: invalid type: integer `3`, expected a sequence at line 1 column 15/);
  assert.throws(() => select({ sites: [] }, {}), /select: bundle: missing field `dialogues`/);
  assert.throws(() => select({ dialogues: [] }), /select: context: expected an object, got undefined/);
  assert.throws(() => select({ dialogues: [] }, { visits: '2' }), /select: context: at visits: invalid type: string "2"/);
  assert.throws(() => select({ dialogues: [] }, {}, { d: { shown: -1 } }), /select: seen: at d\.shown: invalid value/);
  const d = read('examples/pricing-qualify.json');
  assert.throws(() => simulate(d, 5), (e) => e instanceof TypeError && /simulate: answers: expected an answers file's text or an array of strings/.test(e.message));
  assert.throws(() => simulate(d, ['a', 2]), /simulate: answers: at \[1\]: invalid type: integer `2`, expected a string/);
  assert.throws(() => simulate(d, [], { now: 'soon' }), /simulate: options: at now: invalid type: string/);
  assert.throws(() => simulate(42, []), /simulate: json: expected a JSON string or an object, got number/);
});
