// Targeting over a bundle shaped like the worker's (`{ dialogues: [{ id, hash, priority, dialogue, flow }] }`):
// the highest priority whose audience matches, frequency rules from `seen`, dynamic signals to watch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile, select } from '@dynchat/engine';
import { examples } from './repo.mjs';

const T0 = 1_799_053_200_000;
const bundle = () => ({
  site: 'acme',
  dialogues: examples().map(([, text]) => {
    const d = JSON.parse(text);
    const { flow } = compile(text);
    return { id: d.id, hash: flow.hash, priority: d.priority, dialogue: d, flow: JSON.parse(flow.toWire()) };
  }),
});
const page = (o) => ({ url: 'https://northwind.example/', visits: 1, now_ms: T0, ...o });

test('the pricing page picks the pricing dialogue once its time-on-page rule holds', () => {
  const early = select(bundle(), page({ url: 'https://northwind.example/pricing', time_on_page_s: 1 }));
  assert.equal(early.dialogue, null);
  assert.deepEqual(early.watch.time_on_page_s, [4]);
  assert.deepEqual(early.skipped, []);
  const later = select(bundle(), page({ url: 'https://northwind.example/pricing', time_on_page_s: 5 }));
  assert.equal(later.dialogue, 'pricing-qualify');
});

test('priority decides between matching dialogues; seen frequency rules hide one', () => {
  const url = 'https://northwind.example/pricing?utm_campaign=spring-launch';
  assert.equal(select(bundle(), page({ url, time_on_page_s: 5 })).dialogue, 'campaign-spring');
  const seen = { 'campaign-spring': { shown: 1, completed: true } };
  assert.equal(select(bundle(), page({ url, time_on_page_s: 5 }), seen).dialogue, 'pricing-qualify');
});

test('captured lead fields change the pick', () => {
  const anon = page({ url: 'https://northwind.example/product', scroll_depth_pct: 60 });
  assert.equal(select(bundle(), anon).dialogue, 'anonymous-capture');
  assert.equal(select(bundle(), { ...anon, lead: { email: 'ann@acme.com' } }).dialogue, null);
});

test('an entry that cannot be read is skipped and named; the others still compete', () => {
  const b = bundle();
  b.dialogues.push({ id: 'broken', dialogue: { audience: { all: [{ field: 'nope.x', op: 'is', value: '1' }] } } });
  b.dialogues.push({ priority: 99, dialogue: {} });
  const r = select(JSON.stringify(b), page({ url: 'https://northwind.example/pricing', time_on_page_s: 5 }));
  assert.equal(r.dialogue, 'pricing-qualify');
  // An entry without an id is named by its index (the last one here; examples/ grows).
  assert.deepEqual(r.skipped, ['broken', `#${b.dialogues.length - 1}`]);
});
