// Simulating dialogues in CI: every golden transcript of the engine (engine/core/tests/golden)
// comes out of `simulate` byte for byte, from the answers file's text as `dynchat simulate` reads it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simulate } from '@dynchat/engine';
import { goldens, read } from './repo.mjs';

test('every golden transcript reproduces', () => {
  const cases = goldens();
  assert.ok(cases.length >= 10, `golden cases: ${cases.length}`);
  for (const c of cases) assert.equal(simulate(c.dialogue, c.answers), c.transcript, c.name);
});

test('answers as a list, with options for what the file header would say', () => {
  const dialogue = read('examples/pricing-qualify.json');
  const book = goldens().find((c) => c.name === 'pricing-book');
  const list = book.answers.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
  assert.equal(simulate(dialogue, list), book.transcript);
  const known = goldens().find((c) => c.name === 'pricing-known-email');
  const answers = known.answers.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
  const lead = { FirstName: 'Bo', email: 'bo@globex.com' };
  assert.equal(simulate(dialogue, answers, { lead }), known.transcript);
  assert.notEqual(simulate(dialogue, answers), known.transcript, 'the lead changes the transcript');
});

test('a dialogue that does not compile throws with its diagnostics', () => {
  const bad = read('tests/bad-dialogues/unknown-next.json');
  assert.throws(() => simulate(bad, ['x']), (e) => {
    assert.match(e.message, /^simulate: the dialogue does not compile/);
    assert.deepEqual(e.diagnostics.map((d) => [d.code, d.path]), [['unknown_card', '$.cards[0].next']]);
    return true;
  });
});

test('an answer that names no input throws with the transcript so far', () => {
  const dialogue = read('examples/pricing-qualify.json');
  assert.throws(() => simulate(dialogue, ['@0']), (e) => {
    assert.match(e.message, /answer 1 `@0`: buttons are numbered from 1 to 3/);
    assert.match(e.transcript, /^# dialogue pricing-qualify/);
    assert.doesNotMatch(e.transcript, /visitor:/);
    return true;
  });
  assert.throws(() => simulate(dialogue, '# now: soon\n@1\n'), /`# now: soon`: expected milliseconds/);
});
