// Validating dialogues in a JS project's CI: every example compiles, every bad dialogue is refused
// with the diagnostic (code and JSON path) tests/bad-dialogues/expected.txt names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile, Flow } from '@dynchat/engine';
import { examples, badDialogues, read } from './repo.mjs';

const leadFields = read('tests/bad-dialogues/lead-fields.txt').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

test('every example compiles to a flow with no error', () => {
  const all = examples();
  assert.ok(all.length >= 4, `examples found: ${all.length}`);
  for (const [file, text] of all) {
    const r = compile(text);
    assert.equal(r.ok, true, `${file}: ${JSON.stringify(r.diagnostics)}`);
    assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), [], file);
    assert.equal(r.flow.id, JSON.parse(text).id, file);
    assert.match(r.flow.hash, /^[0-9a-f]{20}$/, file);
    assert.ok(r.flow.cards.length > 1, file);
  }
});

test('an object compiles like its JSON text, to the same version hash', () => {
  const [, text] = examples()[0];
  assert.equal(compile(JSON.parse(text)).flow.hash, compile(text).flow.hash);
});

test('every bad dialogue is refused with its code at its JSON path', () => {
  const cases = badDialogues();
  assert.ok(cases.length >= 20, `cases: ${cases.length}`);
  for (const { file, code, path } of cases) {
    const r = compile(read(`tests/bad-dialogues/${file}.json`), { leadFields });
    assert.equal(r.ok, false, `${file} compiled`);
    assert.equal(r.flow, undefined, file);
    const hit = r.diagnostics.find((d) => d.code === code && d.path === path && d.severity === 'error');
    assert.ok(hit, `${file}: want ${code} at ${path}, got ${JSON.stringify(r.diagnostics)}`);
    assert.ok(hit.message.length > 10, `${file}: message "${hit.message}"`);
  }
});

test('lead fields are checked only when the list is given', () => {
  const text = read('tests/bad-dialogues/unknown-lead-field.json');
  assert.equal(compile(text).ok, true);
  const r = compile(text, { leadFields });
  assert.deepEqual(r.diagnostics.map((d) => [d.code, d.path]), [['unknown_field', '$.cards[0].field']]);
});

test('a warning does not block the flow', () => {
  const d = JSON.parse(examples()[0][1]);
  d.audience = { any: [{ field: 'page.url', op: 'not_matches', value: '*/x*' }, { field: 'page.visits', op: 'greater_than', value: 1 }] };
  const r = compile(d);
  assert.equal(r.ok, true);
  assert.deepEqual(r.diagnostics.map((x) => [x.severity, x.code, x.path]), [['warning', 'exclusion_in_any', '$.audience.any[0]']]);
});

test('a compiled flow travels in its wire form', () => {
  const { flow } = compile(examples()[0][1]);
  const back = Flow.fromWire(flow.toWire());
  assert.equal(back.hash, flow.hash);
  assert.deepEqual(back.cards, flow.cards);
  assert.throws(() => Flow.fromWire('{"id":1}'), /Flow\.fromWire: /);
});
