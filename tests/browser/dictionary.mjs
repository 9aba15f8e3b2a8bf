// The chat module's wasm compressed against the targeting module's (Compression Dictionary Transport,
// RFC 9842; issue 12), registered into tests/browser/run.mjs's list against the REAL worker only
// (the stub API serves dist/widget as plain files). The worker marks the targeting wasm
// `Use-As-Dictionary`; Chromium then asks for the chat wasm with `Available-Dictionary` (the
// targeting wasm's sha-256) and `dcb` in Accept-Encoding, and gets the file `cargo xtask widget`
// wrote (xtask/src/widget_dict.rs) with `Content-Encoding: dcb`: seen here with CDP Network events
// (headers and bytes on the wire) and the chat working. The chat script comes plain (the targeting
// module has no script: its glue is in the loader). From Node, a wrong, garbage or unaccepted
// dictionary gets the plain file.
import { readFileSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

export function dictionaryTests(h) {
  const { test, newPage, q, shadow, assert, root, endpoint, REAL } = h;
  if (!REAL) return;
  const dir = join(root, 'dist/widget');
  const files = readdirSync(dir);
  const one = (re) => { const f = files.filter((n) => re.test(n)); assert(f.length === 1, `one ${re} in dist/widget: ${f}`); return f[0]; };
  const lower = (hs) => Object.fromEntries(Object.entries(hs || {}).map(([k, v]) => [k.toLowerCase(), v]));

  test('dictionary transport: the chat wasm arrives dcb-compressed against the targeting module, and the chat works', async () => {
    assert(!files.some((n) => /^targeting\.[0-9a-f]{8}\.js$/.test(n) || /\.js\.[0-9a-f]{64}\.dcb$/.test(n)), 'no targeting script, no dcb chat script: ' + files);
    const pairs = ['wasm'].map((ext) => {
      const targeting = one(new RegExp(`^targeting\\.[0-9a-f]{8}\\.${ext}$`));
      const chat = one(new RegExp(`^chat\\.[0-9a-f]{8}\\.${ext}$`));
      const dictHash = createHash('sha256').update(readFileSync(join(dir, targeting))).digest();
      const dcbFile = one(new RegExp(`^chat\\.[0-9a-f]{8}\\.${ext}\\.[0-9a-f]{64}\\.dcb$`));
      assert(dcbFile === `${chat}.${dictHash.toString('hex')}.dcb`, `${dcbFile}: named by the sha-256 of ${targeting}`);
      const dcb = readFileSync(join(dir, dcbFile));
      assert(dcb.subarray(0, 4).equals(Buffer.from([0xff, 0x44, 0x43, 0x42])) && dcb.subarray(4, 36).equals(dictHash), dcbFile + ': dcb header, magic + dictionary hash');
      return { ext, targeting, chat, dictHash, dcb };
    });

    const { ctx, page } = await newPage();
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('Network.enable');
    const url = new Map(), reqHeaders = new Map(), resHeaders = new Map(), done = new Map(), failed = new Map();
    cdp.on('Network.requestWillBeSent', (e) => url.set(e.requestId, e.request.url));
    cdp.on('Network.requestWillBeSentExtraInfo', (e) => reqHeaders.set(e.requestId, lower(e.headers)));
    cdp.on('Network.responseReceived', (e) => resHeaders.set(e.requestId, lower(e.response.headers)));
    cdp.on('Network.loadingFinished', (e) => done.set(e.requestId, e.encodedDataLength));
    cdp.on('Network.loadingFailed', (e) => failed.set(e.requestId, e.errorText));
    await page.goto(q('/pricing'));
    await shadow(page, '.launcher').click();
    await shadow(page, '.choice').first().waitFor();
    const first = await shadow(page, '.log').textContent();
    assert(first && first.trim().length > 0, 'the first bot message is shown');
    const id = (file) => [...url].filter(([, u]) => u === `${endpoint}/widget/${file}`).map(([i]) => i);
    for (const { ext, targeting, chat, dictHash, dcb } of pairs) {
      const [t] = id(targeting);
      const marked = (resHeaders.get(t) || {})['use-as-dictionary'] || '';
      assert(t && marked === `match="/widget/chat.*.${ext}"`, `${targeting}: Use-As-Dictionary, got ` + JSON.stringify(resHeaders.get(t)));
      const ids = id(chat);
      assert(ids.length === 1, `one request for ${chat}, got ` + ids.length);
      const c = ids[0];
      const sent = reqHeaders.get(c) || {};
      assert(sent['available-dictionary'] === `:${dictHash.toString('base64')}:`, `Chromium offered ${targeting} for ${chat}: ` + JSON.stringify(sent));
      assert(/\bdcb\b/.test(sent['accept-encoding'] || ''), 'Accept-Encoding lists dcb: ' + sent['accept-encoding']);
      const got = resHeaders.get(c) || {};
      assert(got['content-encoding'] === 'dcb', `${chat} Content-Encoding: ` + got['content-encoding'] + ' ' + JSON.stringify(got));
      assert(/available-dictionary/i.test(got.vary || '') && /accept-encoding/i.test(got.vary || ''), 'Vary: ' + got.vary);
      assert(got['cache-control'] === 'public, max-age=31536000, immutable', 'Cache-Control: ' + got['cache-control']);
      assert(!failed.has(c), `${chat} failed: ` + failed.get(c));
      const wire = done.get(c);
      // The body on the wire is the dcb file; the rest is the response's head.
      assert(wire >= dcb.length && wire <= dcb.length + 1024, `${chat}: ${wire} B on the wire for a ${dcb.length} B dcb file`);
      console.log(`     ${chat}: ${wire} B on the wire (dcb file ${dcb.length} B, plain ${readFileSync(join(dir, chat)).length} B)`);
    }
    await ctx.close();
  });

  test('dictionary transport: a wrong, garbage or unaccepted Available-Dictionary gets the plain chat wasm', async () => {
    const targeting = one(/^targeting\.[0-9a-f]{8}\.wasm$/);
    const chat = one(/^chat\.[0-9a-f]{8}\.wasm$/);
    const plain = readFileSync(join(dir, chat));
    const good = `:${createHash('sha256').update(readFileSync(join(dir, targeting))).digest('base64')}:`;
    const wrong = `:${createHash('sha256').update('another dictionary').digest('base64')}:`;
    const get = async (headers) => {
      const r = await fetch(`${endpoint}/widget/${chat}`, { headers });
      return { status: r.status, enc: r.headers.get('content-encoding'), body: Buffer.from(await r.arrayBuffer()) };
    };
    // The right dictionary and dcb accepted: the dcb file, as built (Node's fetch leaves dcb encoded).
    const hit = await get({ 'Available-Dictionary': good, 'Accept-Encoding': 'dcb' });
    assert(hit.status === 200 && hit.enc === 'dcb', `right dictionary: ${hit.status} ${hit.enc}`);
    assert(hit.body.equals(readFileSync(join(dir, `${chat}.${Buffer.from(good.slice(1, -1), 'base64').toString('hex')}.dcb`))), 'right dictionary: the dcb file');
    for (const [what, headers] of [
      ['another hash', { 'Available-Dictionary': wrong, 'Accept-Encoding': 'dcb, br' }],
      ['garbage', { 'Available-Dictionary': 'garbage', 'Accept-Encoding': 'dcb, br' }],
      ['not base64', { 'Available-Dictionary': ':!!not base64!!:', 'Accept-Encoding': 'dcb' }],
      ['a short hash', { 'Available-Dictionary': ':3q2+7w==:', 'Accept-Encoding': 'dcb' }],
      ['a very long header', { 'Available-Dictionary': ':' + 'A'.repeat(6000) + ':', 'Accept-Encoding': 'dcb' }],
      ['dcb not accepted', { 'Available-Dictionary': good, 'Accept-Encoding': 'br, dcz' }],
      ['dcb refused (q=0)', { 'Available-Dictionary': good, 'Accept-Encoding': 'dcb;q=0, gzip' }],
    ]) {
      const r = await get(headers);
      assert(r.status === 200, `${what}: status ${r.status}`);
      assert(r.enc !== 'dcb', `${what}: answered dcb`);
      assert(r.body.equals(plain), `${what}: not the plain chat wasm (${r.body.length} B, encoding ${r.enc})`);
    }
  });
}
