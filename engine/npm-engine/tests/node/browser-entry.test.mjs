// The entry browsers and bundlers get (index.js, wasm-bindgen's `web` glue), loaded here in Node
// from its bytes: it refuses work before the wasm is loaded, then answers as the Node entry does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as node from '@dynchat/engine';
import { goldens } from './repo.mjs';

const dir = dirname(createRequire(import.meta.url).resolve('@dynchat/engine/package.json'));

test('index.js: nothing before init, then the same answers as the Node entry', async () => {
  const web = await import(pathToFileURL(join(dir, 'index.js')).href);
  assert.throws(() => web.compile('{}'), /^Error: @dynchat\/engine: compile before the wasm is loaded: call `await init\(\)` first$/);
  assert.throws(() => web.simulate('{}', []), /call `await init\(\)` first/);
  web.initSync(readFileSync(join(dir, 'engine_bg.wasm')));
  await web.init(); // already loaded: resolves without fetching
  const book = goldens().find((c) => c.name === 'pricing-book');
  assert.equal(web.simulate(book.dialogue, book.answers), book.transcript);
  assert.equal(web.compile(book.dialogue).flow.hash, node.compile(book.dialogue).flow.hash);
  assert.notEqual(web.Session, node.Session, 'two module instances, one per glue');
});
