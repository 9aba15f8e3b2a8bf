// A session's language (`SessionOptions.lang`): the engine's own texts follow it; a tag that is
// no language is refused, naming the option.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile, Session } from '@dynchat/engine';

const DIALOGUE = {
  version: 2, id: 'pick', name: 'Pick',
  cards: [
    { id: 'q', type: 'question', text: 'Pick one', buttons: [{ label: 'A', next: 'e' }] },
    { id: 'e', type: 'end' },
  ],
};

const repromptIn = (options) => {
  const s = new Session(compile(DIALOGUE).flow, { id: 'v', now: 0, ...options });
  s.step({ type: 'start' }, 0);
  const fx = s.step({ type: 'text', text: 'B' }, 1);
  assert.deepEqual(fx.map((e) => e.type), ['reprompt']);
  return [s.lang, fx[0].message];
};

test('a German session re-prompts in German', () => {
  assert.deepEqual(repromptIn({ lang: 'de-AT' }), ['de', 'Bitte wählen Sie eine der Optionen.']);
});

test('without lang the session speaks English', () => {
  assert.deepEqual(repromptIn({}), ['en', 'Please pick one of the options.']);
});

test('a lang that is no language tag is refused, naming the option', () => {
  const flow = compile(DIALOGUE).flow;
  assert.throws(() => new Session(flow, { id: 'v', now: 0, lang: 'd3' }), (e) => e instanceof TypeError && /options\.lang/.test(e.message));
  assert.throws(() => new Session(flow, { id: 'v', now: 0, lang: 7 }), (e) => e instanceof TypeError && /lang/.test(e.message));
});
