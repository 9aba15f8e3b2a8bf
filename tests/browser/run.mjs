// Browser tests for the widget, against the stub API (default) or the REAL worker:
//   node tests/browser/run.mjs [--only name]                                   (stub API, started here)
//   node tests/browser/run.mjs --endpoint URL --admin-token T --marketo URL \
//        [--caldav URL --caldav-user U --caldav-password P] [--only name]      (real worker + peers)
// Against the real worker the runner seeds the fixture sites and publishes their dialogues through
// the admin API, seeds a calendar agent and the "sales" queue (when --caldav is given), and reads
// what the worker stored through admin endpoints and what reached Marketo through the peer's
// GET /_peer/state. Starts a "customer site" server on another origin and Chromium. A few tests need
// what the worker never serves (a bundle it refuses to publish, slots in a night the clocks go back,
// which real time does not reach); they use a second stub API (fixtures/stub-sites.json) in both modes.
// Prints one line per test, saves screenshots to target/screenshots/, exits non-zero on failure.
import { createServer } from 'node:http';
import { readFileSync, mkdirSync, existsSync, rmSync, cpSync, readdirSync, statSync } from 'node:fs';
import { join, extname } from 'node:path';
import { execFileSync } from 'node:child_process';
import { chromium } from 'playwright-core';
import { createStub, readFixtures } from './stub-server.mjs';
import { realBackend, stubBackend } from './backend.mjs';
import { netlog } from './netlog.mjs';
import { languageTests } from './languages.mjs';
import { noSlotTests } from './no-slots.mjs';
import { branchTests } from './branch.mjs';
import { patternTests } from './pattern.mjs';
import { dictionaryTests } from './dictionary.mjs';
import { facadeTests } from './facade.mjs';

const root = new URL('../../', import.meta.url).pathname;
const argv = process.argv.slice(2);
const opt = (n) => { const i = argv.indexOf(n); return i >= 0 ? argv[i + 1] : undefined; };
const only = opt('--only');
const shots = join(root, 'target/screenshots');
mkdirSync(shots, { recursive: true });
if (!existsSync(join(root, 'dist/widget/loader.js'))) { console.error('dist/widget is missing: build the widget first (cargo xtask build-widget)'); process.exit(2); }
const fixturesPath = join(root, 'tests/browser/fixtures/sites.json');
const fixtures = () => readFixtures(fixturesPath);

let stub = null, endpoint = opt('--endpoint');
// --dist DIR (stub only): serve the widget from DIR/widget instead of dist/widget.
if (!endpoint) { stub = createStub({ root, fixtures: fixturesPath, dist: opt('--dist') || join(root, 'dist') }); endpoint = await stub.listen(0); }
endpoint = endpoint.replace(/\/$/, '');
const REAL = !stub;
if (REAL && !opt('--admin-token')) { console.error('--endpoint needs --admin-token (and --marketo for the lead checks)'); process.exit(2); }

// ---- the customer site: another origin, pages generated from query parameters ----
const esc = (s) => String(s).replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);
const appDir = join(root, 'target/npm-app/dist');
const site = createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname.startsWith('/pricing-app/')) {
    const f = join(appDir, url.pathname.slice('/pricing-app/'.length) || 'index.html');
    if (existsSync(f) && statSync(f).isFile()) {
      const t = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' }[extname(f)] || 'application/octet-stream';
      res.writeHead(200, { 'content-type': t });
      return res.end(readFileSync(f));
    }
    res.writeHead(404); return res.end();
  }
  if (url.pathname === '/favicon.ico') { res.writeHead(404); return res.end(); }
  const q = url.searchParams;
  const headers = { 'content-type': 'text/html; charset=utf-8' };
  if (q.get('csp')) headers['content-security-policy'] = `default-src 'self'; script-src 'self' ${endpoint} 'wasm-unsafe-eval'; style-src 'self'; connect-src 'self' ${endpoint}; img-src 'self' ${endpoint} https: data:`;
  const consent = q.get('consent') ? ' data-consent="required"' : '';
  const api = q.get('api') || endpoint; // another API (the second stub) for this page
  const filler = Array.from({ length: +(q.get('paras') || 3) }, (_, i) => `<p>Paragraph ${i + 1}. Acme builds reliable widgets for demanding teams. Compare plans, read customer stories and talk to our team.</p>`).join('\n');
  res.writeHead(200, headers);
  res.end(`<!doctype html><html lang="${esc(q.get('lang') || 'en')}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Acme — ${esc(url.pathname)}</title></head>
<body><header><nav><a href="/pricing">Pricing</a> · <a href="/guide">Guide</a> · <a href="/blog">Blog</a></nav></header><main><h1>Acme ${esc(url.pathname)}</h1>${filler}</main>
${q.get('bare') ? `<script src="${esc(api)}/widget/loader.js"></script>` : ''}${`<script src="${esc(api)}/widget/loader.js" data-site="${esc(q.get('site') || 'acme')}" data-endpoint="${esc(api)}"${consent} async></script>`.repeat(q.get('twice') ? 2 : 1)}</body></html>`);
});
const siteUrl = await new Promise((ok) => site.listen(0, '127.0.0.1', () => ok(`http://127.0.0.1:${site.address().port}`)));

const caldav = opt('--caldav') ? { url: opt('--caldav'), user: opt('--caldav-user'), password: opt('--caldav-password') } : null;
const backend = REAL
  ? realBackend({ endpoint, token: opt('--admin-token'), marketo: opt('--marketo'), caldav, fixtures })
  : stubBackend(endpoint, fixtures);
await backend.setup(siteUrl);
// Emails unique per run, so a worker or Marketo peer that already saw a run cannot make a check pass.
const RUN = Date.now().toString(36);
const mail = (local, domain) => `${local}+${RUN}@${domain}`;
// The second stub API, started on first use (stub-only fixtures: tests/browser/fixtures/stub-sites.json).
let side = null;
async function sideStub() {
  if (!side) { side = createStub({ root, fixtures: join(root, 'tests/browser/fixtures/stub-sites.json') }); side.url = await side.listen(0); }
  return side.url;
}
const sideConfig = async (cfg) => { const r = await fetch((await sideStub()) + '/_stub/config', { method: 'POST', body: JSON.stringify(cfg) }); assert(r.ok, 'stub config ' + r.status); };

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

// ---- helpers ----
const W = '#dynchat-widget';
const netRecord = netlog(root, 'widget');
let consoleLines = [];
async function newPage(o = {}) {
  const ctx = await browser.newContext({ viewport: o.viewport || { width: 1280, height: 800 }, colorScheme: o.colorScheme || 'light', timezoneId: 'Europe/Amsterdam', reducedMotion: o.reducedMotion || 'no-preference' });
  netRecord.watch(ctx);
  await ctx.addInitScript(() => {
    window.__csp = [];
    window.__errors = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
    window.addEventListener('error', (e) => window.__errors.push(String(e.message)));
    window.__dom = [];
    for (const n of ['triggered', 'engaged', 'completed', 'closed', 'email', 'phone', 'meeting-booked', 'goal', 'lead-refused']) document.addEventListener('dynchat:' + n, (e) => window.__dom.push([n, e.detail]));
  });
  const page = await ctx.newPage();
  page.setDefaultTimeout(15000);
  const requests = [];
  // Every API call the page makes: what the widget sent and what the API answered (0 = no answer).
  const net = [];
  page.on('request', (r) => {
    requests.push(r.url());
    if (r.url().startsWith(endpoint + '/v1/')) net.push({ r, method: r.method(), path: new URL(r.url()).pathname, key: r.headers()['idempotency-key'], body: r.postData(), status: 0 });
  });
  page.on('response', (res) => { const e = net.find((x) => x.r === res.request()); if (e) e.status = res.status(); });
  page.on('requestfailed', (r) => { const e = net.find((x) => x.r === r); if (e) e.failed = (r.failure() || {}).errorText || 'failed'; });
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') consoleLines.push(m.text()); });
  page.on('pageerror', (e) => consoleLines.push('pageerror: ' + e.message));
  return { ctx, page, requests, net };
}
const q = (path, extra = '') => `${siteUrl}${path}?x=1${extra}`;
const shadow = (page, sel) => page.locator(`${W} ${sel}`);
async function waitFor(fn, what, tries = 60) {
  for (let i = 0; i < tries; i++) { const v = await fn(); if (v) return v; await new Promise((r) => setTimeout(r, 250)); }
  throw new Error('timed out waiting for ' + what);
}
const posted = (net, what) => net.filter((e) => e.method === 'POST' && e.path.endsWith('/' + what));
const sentEvents = (net) => posted(net, 'events').filter((e) => e.status === 202).flatMap((e) => JSON.parse(e.body).events);
async function openChat(page) {
  await shadow(page, '.launcher').click();
  await shadow(page, '.choice').first().waitFor();
}
async function answerEmail(page, email) {
  await shadow(page, 'input[type=email]').waitFor();
  await shadow(page, 'input[type=email]').fill(email);
  await shadow(page, 'input[type=email]').press('Enter');
}
function assert(c, m) { if (!c) throw new Error(m); }

// ---- tests ----
const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test('a targeting module answered with an error page (404) is said on the console as such, and nothing is shown', async () => {
  const { ctx, page } = await newPage();
  const warnings = [];
  page.on('console', (m) => { if (m.type() === 'warning') warnings.push(m.text()); });
  await page.route(/\/widget\/targeting\.[0-9a-f]{8}\.wasm$/, (r) => r.fulfill({ status: 404, contentType: 'text/html', body: '<h1>Not found</h1>' }));
  await page.goto(q('/pricing'));
  await page.evaluate(() => window.dynchat.ready);
  assert(warnings.some((w) => w.includes('dynchat: targeting module 404')), 'the console says the module answered 404: ' + JSON.stringify(warnings));
  assert(await page.locator(W).count() === 0, 'no widget without the targeting module');
  await ctx.close();
});

test('targeted dialogue appears; a page where nothing matches loads only loader + targeting', async () => {
  const { ctx, page, requests } = await newPage();
  await page.goto(q('/pricing'));
  await shadow(page, '.launcher').waitFor();
  await shadow(page, '.poke').waitFor();
  assert((await shadow(page, '.poke-open').textContent()).includes('Comparing plans'), 'welcome bubble text');
  await page.screenshot({ path: join(shots, 'poke-1280.png') });
  const dom = await page.evaluate(() => window.__dom.map((e) => e[0]));
  assert(dom.includes('triggered'), 'dynchat:triggered fired');
  const blank = await newPage();
  await blank.page.goto(q('/blog'));
  await blank.page.evaluate(() => window.dynchat.ready);
  await new Promise((r) => setTimeout(r, 500));
  const assets = blank.requests.filter((u) => u.includes('/widget/')).map((u) => u.split('/widget/')[1]);
  // The targeting module is its wasm alone: its glue is in the loader.
  const want = [/^loader\.js$/, /^targeting\.[0-9a-f]{8}\.wasm$/];
  assert(assets.length === want.length && want.every((re) => assets.filter((a) => re.test(a)).length === 1), 'no-match page fetched ' + assets);
  assert(await blank.page.locator(W).count() === 0, 'no widget on a page where nothing matches');
  await blank.ctx.close();
  await ctx.close();
});

test('the launcher first: no chat module on a matching page until intent; a click, an Enter or the API open() made while it loads open the chat; on hover it takes over without the bubble rising again', async () => {
  const chatRe = /\/widget\/chat\.[0-9a-f]{8}\.(js|wasm)$/;
  for (const how of ['click', 'keyboard', 'api', 'hover']) {
    const keyboard = how === 'keyboard';
    const { ctx, page, requests } = await newPage();
    // The chat module's wasm comes late, so that the click (or Enter) lands while it loads.
    await page.route(/\/widget\/chat\.[0-9a-f]{8}\.wasm$/, async (route) => { await new Promise((r) => setTimeout(r, 700)); await route.continue(); });
    await page.goto(q('/pricing'));
    await shadow(page, '.launcher').waitFor();
    await page.evaluate(() => window.dynchat.ready);
    await new Promise((r) => setTimeout(r, 500));
    const chatFiles = () => requests.filter((u) => chatRe.test(u)).length;
    assert(chatFiles() === 0, 'no chat module before intent, got ' + chatFiles());
    assert((await shadow(page, '.poke-open').textContent()).includes('Comparing plans'), 'welcome bubble before the chat module');
    assert(await shadow(page, '.launcher').getAttribute('aria-label') === 'Chat with Ava from Acme', 'launcher label');
    const dom = await page.evaluate(() => window.__dom.map((e) => e[0]));
    assert(dom.includes('triggered'), 'dynchat:triggered fired with the launcher');
    const focused = () => page.evaluate(() => { const a = document.querySelector('#dynchat-widget').shadowRoot.activeElement; return a ? a.className : ''; });
    if (how === 'hover') {
      // The pointer over the launcher loads the chat; its own bubble replaces the loader's as it is, without rising again.
      await shadow(page, '.launcher').hover();
      await page.waitForFunction(() => document.querySelector('#dynchat-widget').shadowRoot.querySelector('.panel'), null, { polling: 'raf' });
      // (The hovered launcher's scale transition starts again on the chat's own button: not an animation.)
      const moving = await page.evaluate(() => document.querySelector('#dynchat-widget').shadowRoot.getAnimations().filter((a) => a.animationName).map((a) => a.animationName + ' ' + a.effect.target.className));
      assert(moving.length === 0, 'the bubble does not rise again when the chat takes over, got ' + moving);
      assert(await shadow(page, '.poke').isVisible(), 'the bubble stays');
    }
    if (keyboard) {
      await shadow(page, '.launcher').focus();
      await page.keyboard.press('Enter');
    } else if (how === 'api') await page.evaluate(() => window.dynchat.open());
    else await shadow(page, '.launcher').click();
    if (how !== 'hover') assert(await shadow(page, '.panel').count() === 0, 'the click landed before the chat module was there');
    await shadow(page, '.choice').first().waitFor();
    assert(chatFiles() === 2, 'the chat module fetched once, got ' + chatFiles());
    assert(await page.locator(W).count() === 1, 'one widget once the chat took over');
    assert(await shadow(page, '.launcher').getAttribute('aria-expanded') === 'true', 'the panel is open');
    if (keyboard) await waitFor(async () => (await focused()) === 'choice', 'focus on the first answer');
    await ctx.close();
  }
});

test('the launcher first: the loader draws the same DOM as the chat module (host attributes, bubble, launcher)', async () => {
  const { ctx, page } = await newPage();
  // The host's attributes and the bubble and launcher as the DOM serializes them (the chat's
  // launcher also controls its panel, which only the chat module has).
  const drawn = () => page.evaluate(() => {
    const h = document.querySelector('#dynchat-widget'), r = h.shadowRoot;
    const l = r.querySelector('.launcher').cloneNode(true);
    l.removeAttribute('aria-controls');
    return [...['data-theme', 'data-side', 'lang', 'dir'].map((a) => h.getAttribute(a)), r.querySelector('.poke').outerHTML, l.outerHTML].join('\n');
  });
  await page.goto(q('/pricing'));
  await shadow(page, '.launcher').waitFor();
  await page.evaluate(() => window.dynchat.ready);
  const loader = await drawn();
  await shadow(page, '.launcher').hover();
  await page.waitForFunction(() => document.querySelector('#dynchat-widget').shadowRoot.querySelector('.panel'), null, { polling: 'raf' });
  const chat = await drawn();
  assert(loader === chat, 'the same DOM, loader:\n' + loader + '\nchat:\n' + chat);
  await ctx.close();
});

test('second page view: the widget files come from the HTTP cache (hashed names immutable), the bundle at most revalidated', async () => {
  const { ctx, page } = await newPage();
  // What reached the network, by CDP: a request served from the memory or disk cache is not counted.
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('Network.enable');
  const sent = new Map(), cached = new Set(), status = new Map(), headers = new Map();
  cdp.on('Network.requestWillBeSent', (e) => sent.set(e.requestId, e.request.url));
  cdp.on('Network.requestServedFromCache', (e) => cached.add(e.requestId));
  cdp.on('Network.responseReceived', (e) => {
    if (e.response.fromDiskCache || e.response.fromPrefetchCache) cached.add(e.requestId);
    status.set(e.requestId, e.response.status);
    headers.set(e.requestId, e.response.headers);
  });
  const view = async (path) => {
    sent.clear(); cached.clear(); status.clear();
    await page.goto(q(path));
    await shadow(page, '.launcher').waitFor();
    // Intent (the pointer on the launcher) loads the chat module: the launcher is shown without it.
    await shadow(page, '.launcher').hover();
    await shadow(page, '.panel').waitFor({ state: 'attached' });
    await page.evaluate(() => window.dynchat.ready);
    await new Promise((r) => setTimeout(r, 300));
    return [...sent].filter(([, u]) => u.startsWith(endpoint + '/widget/') || u.endsWith('/bundle'));
  };
  const first = await view('/pricing');
  const file = (u) => u.split('/widget/')[1];
  const widget = first.filter(([, u]) => u.includes('/widget/'));
  // The targeting wasm, the chat module's js and wasm (the targeting module's glue is in the loader).
  assert(widget.filter(([, u]) => /\.[0-9a-f]{8}\.(js|wasm)$/.test(u)).length === 3, 'first view: three hashed module files, got ' + widget.map(([, u]) => file(u)));
  for (const [id, u] of widget) {
    const h = Object.fromEntries(Object.entries(headers.get(id) || {}).map(([k, v]) => [k.toLowerCase(), v]));
    if (file(u) === 'loader.js') assert(/max-age=300/.test(h['cache-control']) && h.etag, 'loader.js: short cache + ETag, got ' + JSON.stringify(h));
    else assert(h['cache-control'] === 'public, max-age=31536000, immutable', file(u) + ': ' + h['cache-control']);
  }
  const second = await view('/pricing');
  const network = second.filter(([id]) => !cached.has(id));
  const widgetNet = network.filter(([, u]) => u.includes('/widget/')).map(([id, u]) => `${file(u)} ${status.get(id)}`);
  assert(widgetNet.length === 0, 'second view: widget files from the network: ' + widgetNet);
  const bundleNet = network.filter(([, u]) => u.endsWith('/bundle')).map(([id]) => status.get(id));
  assert(bundleNet.every((st) => st === 304), 'second view: the bundle is cached or answered 304, got ' + bundleNet);
  await ctx.close();
});

test('scroll-depth rule triggers only after scrolling (Watch)', async () => {
  const { ctx, page } = await newPage();
  await page.goto(q('/guide', '&paras=60'));
  await page.evaluate(() => window.dynchat.ready);
  await new Promise((r) => setTimeout(r, 400));
  assert(await page.locator(W).count() === 0, 'not shown before scrolling');
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  await shadow(page, '.launcher').waitFor();
  await ctx.close();
});

test('a watched rule: with the launcher first no chat module before intent; without it (language auto) preloaded when the rule can fire; one that cannot: none', async () => {
  const chatFiles = (requests) => requests.filter((u) => /\/widget\/chat\.[0-9a-f]{8}\.(js|wasm)$/.test(u)).length;
  // acme has the launcher first: scrolling shows the loader's launcher; the chat module comes on intent.
  const { ctx, page, requests } = await newPage();
  await page.goto(q('/guide', '&paras=60'));
  await page.evaluate(() => window.dynchat.ready);
  await new Promise((r) => setTimeout(r, 500));
  assert(chatFiles(requests) === 0, 'no chat module before the rule fires, got ' + chatFiles(requests));
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  await shadow(page, '.launcher').waitFor();
  await new Promise((r) => setTimeout(r, 300));
  assert(chatFiles(requests) === 0, 'no chat module before intent, got ' + chatFiles(requests));
  await shadow(page, '.launcher').hover();
  await waitFor(async () => chatFiles(requests) === 2 || null, 'chat module on intent');
  await ctx.close();
  // watchauto (`language: auto`: no launcher first) preloads the chat module while the rule waits.
  const auto = await newPage();
  await auto.page.goto(q('/guide', '&paras=60&site=watchauto'));
  await auto.page.evaluate(() => window.dynchat.ready);
  await waitFor(async () => chatFiles(auto.requests) === 2 || null, 'chat module preloaded on /guide (language auto)');
  assert(await auto.page.locator(W).count() === 0, 'preloaded, not shown before scrolling');
  await auto.page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  await shadow(auto.page, '.launcher').waitFor();
  assert(chatFiles(auto.requests) === 2, 'the chat module is fetched once, got ' + chatFiles(auto.requests));
  await auto.ctx.close();
  // /blog watches scroll depth too (the rule's static part, page.path /guide*, cannot hold there).
  const blog = await newPage();
  await blog.page.goto(q('/blog', '&site=watchauto'));
  await blog.page.evaluate(() => window.dynchat.ready);
  await new Promise((r) => setTimeout(r, 500));
  assert(!blog.requests.some((u) => u.includes('/widget/chat.')), 'no chat module on /blog');
  await blog.ctx.close();
});

test('keyboard answers; bad email re-prompts; good email accepted; API receives lead and events', async () => {
  await backend.reset();
  const { ctx, page, net } = await newPage();
  await page.goto(q('/pricing'));
  await shadow(page, '.launcher').waitFor();
  await page.keyboard.press('Tab'); await page.keyboard.press('Tab'); await page.keyboard.press('Tab'); // nav links
  await page.keyboard.press('Tab');
  const focused = () => page.evaluate(() => { const h = document.querySelector('#dynchat-widget'); const a = h && h.shadowRoot.activeElement; return a ? a.className + '|' + a.textContent : ''; });
  for (let i = 0; i < 3 && !(await focused()).startsWith('launcher'); i++) await page.keyboard.press('Tab');
  assert((await focused()).startsWith('launcher'), 'launcher reachable with Tab, got ' + await focused());
  await page.keyboard.press('Enter');
  await shadow(page, '.choice').first().waitFor();
  await waitFor(async () => (await focused()).startsWith('choice'), 'focus on the first answer');
  assert((await focused()).includes('Talk to sales'), 'first choice focused');
  await page.keyboard.press('Enter');
  await shadow(page, 'input[type=email]').waitFor();
  await waitFor(async () => (await focused()).startsWith('|') || (await page.evaluate(() => document.querySelector('#dynchat-widget').shadowRoot.activeElement?.tagName)) === 'INPUT', 'focus in the email box');
  await page.keyboard.type('not-an-email');
  await page.keyboard.press('Enter');
  const err = shadow(page, '.err');
  await waitFor(async () => (await err.textContent()).length > 0, 'the re-prompt');
  assert((await err.textContent()).includes("doesn't look like an email"), 'engine message shown inline');
  assert(await shadow(page, 'input[type=email]').getAttribute('aria-invalid') === 'true', 'aria-invalid');
  await page.screenshot({ path: join(shots, 'reprompt-1280.png') });
  const typed = mail('Jane.Doe', 'Example.com'), email = typed.toLowerCase();
  await shadow(page, 'input[type=email]').fill(typed);
  await page.keyboard.press('Enter');
  await shadow(page, 'input[autocomplete=organization]').waitFor();
  const log = await shadow(page, '.log').textContent();
  assert(log.includes(typed) && log.includes('Which company'), 'visitor bubble and next question');
  // What the widget sent, and that the API took it.
  const sent = await waitFor(async () => posted(net, 'leads').find((e) => e.status === 201), 'the lead POST answered 201');
  const body = JSON.parse(sent.body);
  assert(body.fields.email === email && body.dialogue === 'pricing-qualify' && body.answers.q1 === 'sales', 'lead body ' + sent.body.slice(0, 300));
  assert(body.transcript.some(([w, t]) => w === 'visitor' && t === 'Talk to sales'), 'transcript in lead');
  // What the API stored, and (real worker) what reached Marketo: the q1 answer mapped to chatInterest.
  const stored = await waitFor(async () => { const l = await backend.leads(email); return l.length ? l : null; }, 'the lead stored');
  assert(stored.length === 1 && stored[0].fields.email === email, 'one stored lead: ' + JSON.stringify(stored));
  const delivered = await backend.delivered(email);
  assert(delivered.chatInterest === 'sales', 'answer mapped to the lead field: ' + JSON.stringify(delivered));
  const ev = await waitFor(async () => { const e = sentEvents(net).map((x) => x.type); return ['triggered', 'engaged', 'answer'].every((t) => e.includes(t)) ? e : null; }, 'triggered, engaged and answer events accepted (202)');
  const counted = await waitFor(async () => { const c = await backend.eventCounts('pricing-qualify'); return c.triggered >= 1 && c.engaged >= 1 ? c : null; }, 'events counted by the API');
  assert(ev.length > 0 && counted.triggered >= 1, 'events');
  const dom = await page.evaluate(() => window.__dom.map((e) => e[0]));
  assert(dom.includes('engaged') && dom.includes('email'), 'DOM events engaged + email: ' + dom);
  await ctx.close();
});

test('an email typed into a capture is known on the next page: a lead.email is_empty dialogue is not shown again', async () => {
  // Control: an anonymous visitor gets the anonymous-only offer.
  const anon = await newPage();
  await anon.page.goto(q('/offer'));
  await shadow(anon.page, '.launcher').waitFor();
  await anon.ctx.close();
  const { ctx, page, net } = await newPage();
  await page.goto(q('/hello'));
  await shadow(page, '.launcher').click();
  await answerEmail(page, mail('known', 'example.com'));
  await waitFor(async () => posted(net, 'leads').find((e) => e.status === 201), 'the lead POST answered 201');
  const next = await ctx.newPage();
  await next.goto(q('/offer'));
  await next.evaluate(() => window.dynchat.ready);
  await new Promise((r) => setTimeout(r, 500));
  assert(await next.locator(W).count() === 0, 'the anonymous-only dialogue is not shown to a visitor who gave their email');
  await ctx.close();
});

test('a bundle with a dialogue nested too deep for the browser: the others still show, the loader names the ones left out', async () => {
  // The worker refuses to publish an audience nested deeper than MAX_AUDIENCE_DEPTH (too_deep), so
  // the second stub serves this bundle: deep-17 (priority 30) and deep-40 (priority 20) match the page
  // through 17 and 40 more nested groups; the readable one (priority 1) matches it plainly.
  const api = await sideStub();
  const bundle = await (await fetch(`${api}/v1/sites/deep/bundle`)).json();
  const depth = (a) => (a.all.length && a.all[0].Group ? 1 + depth(a.all[0].Group) : 0);
  assert(JSON.stringify(bundle.dialogues.map((d) => [d.id, depth(d.targeting.audience)])) === '[["deep-17",17],["deep-40",40],["readable",0]]', 'the bundle as served: ' + bundle.dialogues.map((d) => d.id));
  const { ctx, page } = await newPage();
  await page.goto(q('/deep', `&site=deep&api=${encodeURIComponent(api)}`));
  await shadow(page, '.launcher').waitFor();
  const shown = await waitFor(async () => (await page.evaluate(() => window.__dom)).find((e) => e[0] === 'triggered'), 'dynchat:triggered');
  assert(shown[1].dialogue === 'readable', 'the readable dialogue is shown, not ' + JSON.stringify(shown[1]));
  await shadow(page, '.launcher').click();
  await waitFor(async () => (await shadow(page, '.log').textContent()).includes('The readable dialogue is here.'), 'its first message');
  const warned = consoleLines.find((l) => l.startsWith('dynchat: left out, unreadable in the browser: '));
  assert(warned && warned.split(': ').pop() === 'deep-17, deep-40', 'the loader names both dialogues left out: ' + JSON.stringify(consoleLines));
  assert(!consoleLines.some((l) => l.startsWith('pageerror')), 'no page error: ' + consoleLines);
  await ctx.close();
});

test('slots in the hour the clocks go back read differently: their labels name the offset', async () => {
  // Europe/Amsterdam, 31 Oct 2027: 03:00 CEST becomes 02:00 CET at 01:00 UTC, so 02:00-02:59 happens
  // twice. Real time does not reach that night within the worker's horizon: the second stub offers it.
  const api = await sideStub();
  await sideConfig({ slotStarts: ['2027-10-31T00:00:00Z', '2027-10-31T00:30:00Z', '2027-10-31T01:00:00Z', '2027-10-31T01:30:00Z', '2027-10-31T02:00:00Z'] });
  try {
    const { ctx, page } = await newPage();
    await page.goto(q('/night', `&site=fallback&api=${encodeURIComponent(api)}`));
    await shadow(page, '.launcher').click();
    await answerEmail(page, mail('night', 'example.com'));
    await shadow(page, '.time').first().waitFor();
    const days = await shadow(page, '.day').allTextContents();
    const times = await shadow(page, '.time').allTextContents();
    await page.screenshot({ path: join(shots, 'slots-fall-back-1280.png') });
    assert(days.length === 1 && times.length === 5, 'one day, five times: ' + JSON.stringify([days, times]));
    assert(new Set(times).size === 5, 'every time reads differently: ' + JSON.stringify(times));
    const zone = /GMT|CES?T|UTC/;
    assert(times[0].startsWith('02:00') && times[2].startsWith('02:00') && times[1].startsWith('02:30') && times[3].startsWith('02:30'), 'the repeated hour: ' + JSON.stringify(times));
    assert(/GMT\+2|CEST/.test(times[0]) && /GMT\+1|CET\b/.test(times[2]) && /GMT\+2|CEST/.test(times[1]) && /GMT\+1|CET\b/.test(times[3]), 'the offset named on both: ' + JSON.stringify(times));
    assert(times[4].startsWith('03:00') && !zone.test(times[4]), 'a time that does not repeat stays short: ' + times[4]);
    await ctx.close();
  } finally {
    await sideConfig({ slotStarts: null });
  }
});

for (const [path, over, lines] of [['/long-lines', '500 lines', 520], ['/long-bytes', '32 KiB', 60]]) {
  test(`a conversation over ${over}: the lead reaches the API whole (answers, fields), its transcript cut after a marker line`, async () => {
    await backend.reset();
    const { ctx, page, net } = await newPage();
    const email = mail('long', 'example.com');
    // 250 characters: whole in the lead, and within the Marketo field it maps to (chatInterest, 255).
    const need = ('A long answer that must arrive whole. ' + 'x'.repeat(250)).slice(0, 249) + '!';
    await page.goto(q(path));
    await shadow(page, '.launcher').click();
    await shadow(page, '.choice').first().waitFor();
    if (lines > 500) {
      // One limit on typed text (the engine's 1,000 characters), re-prompted, never cut by the input.
      await shadow(page, 'input').fill('y'.repeat(1001));
      await shadow(page, 'input').press('Enter');
      await waitFor(async () => (await shadow(page, '.err').textContent()).includes('at most 1000 characters'), 'the re-prompt for 1,001 characters');
    }
    await shadow(page, 'input').fill(need);
    await shadow(page, 'input').press('Enter');
    await answerEmail(page, email);
    const answered = await waitFor(async () => posted(net, 'leads').find((e) => e.status), 'an answer to the lead POST');
    assert(answered.status === 201, `the API took the lead: ${answered.status} (body of ${answered.body.length} bytes)`);
    const body = JSON.parse(answered.body);
    assert(body.fields.email === email && body.answers.q === need, 'fields and answers whole: ' + JSON.stringify({ fields: body.fields, answers: body.answers }));
    const t = body.transcript;
    const bytes = t.reduce((n, [, x]) => n + Buffer.byteLength(x), 0);
    assert(t.length <= 500 && bytes <= 32 * 1024, `within the API's limits: ${t.length} lines, ${bytes} bytes`);
    const marker = t[0][1].match(/^\((\d+) earlier lines of this conversation left out\)$/);
    assert(t[0][0] === 'bot' && marker, 'the marker line first: ' + JSON.stringify(t[0]));
    // Everything said, counted: the question, the answer, the chain, the email prompt, the email and
    // the end message (the lead leaves once the step that captured the email has run to the end).
    const tail = t.slice(-4).map(([w, x]) => [w, x.slice(0, 60)]);
    assert(+marker[1] + t.length - 1 === lines + 5, `${marker[1]} left out + ${t.length - 1} kept = ${lines + 5} lines: ` + JSON.stringify(tail));
    assert(t.at(-4)[0] === 'bot' && t.at(-4)[1].endsWith(` ${lines}`) && JSON.stringify(t.slice(-3)) === JSON.stringify([['bot', 'Where can we reach you?'], ['visitor', email], ['bot', 'Thanks!']]), 'the most recent lines kept: ' + JSON.stringify(tail));
    const stored = await waitFor(async () => { const l = await backend.leads(email); return l.length ? l : null; }, 'the lead stored');
    assert(stored.length === 1, 'one lead stored: ' + stored.length);
    const delivered = await backend.delivered(email);
    assert(delivered.chatInterest === need, 'the answer reached its lead field whole: ' + JSON.stringify(delivered).slice(0, 300));
    await ctx.close();
  });
}

test('a lead the API refuses with a 4xx is reported (console error + lead-refused event), not swallowed', async () => {
  await backend.reset();
  const { ctx, page, net } = await newPage();
  const cfg = fixtures().refuse.config;
  await page.goto(q('/contact', '&site=refuse'));
  await shadow(page, '.launcher').click();
  await shadow(page, 'input[type=email]').waitFor();
  // The page holds the site's settings as they were; now the owner blocks a domain. The widget does
  // not know it (no re-prompt), the API does: 422 naming fields.email.
  await backend.siteConfig('refuse', { ...cfg, email_blocklist: ['blocked.example'] });
  try {
    await new Promise((r) => setTimeout(r, 2500)); // the worker keeps a site record for 2 s per isolate
    const email = mail('ann', 'blocked.example');
    await answerEmail(page, email);
    const refused = await waitFor(async () => (await page.evaluate(() => window.__dom)).find((e) => e[0] === 'lead-refused'), 'the dynchat:lead-refused event');
    const d = refused[1];
    assert(d.status === 422 && d.error && d.error.field === 'fields.email' && /email domain/.test(d.error.message) && d.key, 'event detail: ' + JSON.stringify(d));
    const sent = posted(net, 'leads');
    assert(sent.length === 1 && sent[0].status === 422 && sent[0].key === d.key, 'one POST, answered 422: ' + sent.map((e) => e.status));
    assert(consoleLines.some((l) => l.startsWith('dynchat: the lead was refused by the API (422)') && l.includes('email domain')), 'console error: ' + JSON.stringify(consoleLines));
    const box = await page.evaluate(() => JSON.parse(localStorage.getItem('dynchat:refuse:outbox') || '[]'));
    assert(box.length === 0, 'out of the outbox (it can never succeed): ' + box.length);
    assert((await backend.leads(email)).length === 0, 'nothing stored');
  } finally {
    await backend.siteConfig('refuse', cfg);
  }
  await ctx.close();
});

test('reload mid-conversation resumes on the pinned flow version; booking a slot', async () => {
  if (REAL && !caldav) throw new Error('the booking needs a calendar: pass --caldav URL --caldav-user U --caldav-password P');
  await backend.reset();
  const { ctx, page, net } = await newPage();
  const email = mail('sam', 'acme.test');
  await page.goto(q('/pricing'));
  await openChat(page);
  await shadow(page, '.choice', { hasText: 'Talk to sales' }).first().click();
  await answerEmail(page, email);
  await shadow(page, 'input[autocomplete=organization]').waitFor();
  // Publish a new version: a reload must keep the old one.
  const fx = fixtures().acme.dialogues[0];
  const oldHash = await backend.liveHash('acme', 'pricing-qualify');
  fx.cards[3].text = 'NEW VERSION: company?';
  const newHash = await backend.publish('acme', fx);
  assert(newHash && newHash !== oldHash && (await backend.liveHash('acme', 'pricing-qualify')) === newHash, 'new version live');
  await page.reload();
  await shadow(page, 'input[autocomplete=organization]').waitFor();
  const log = await shadow(page, '.log').textContent();
  assert(log.includes(email) && log.includes('Which company') && !log.includes('NEW VERSION'), 'transcript restored on the old version');
  assert((log.match(/Which company/g) || []).length === 1, 'question not repeated on resume');
  assert(net.some((e) => e.method === 'GET' && e.path.endsWith('/flows/' + oldHash) && e.status === 200), 'flow fetched by its pinned hash');
  await shadow(page, 'input[autocomplete=organization]').fill('Acme Test Ltd');
  await page.keyboard.press('Enter');
  await shadow(page, '.day').first().waitFor();
  assert((await shadow(page, '.zone').textContent()).includes('Europe/Amsterdam'), 'visitor zone shown');
  await page.screenshot({ path: join(shots, 'slots-1280.png') });
  await shadow(page, '.time').first().click();
  await waitFor(async () => (await shadow(page, '.log').textContent()).includes("You're booked with Alice Agent"), 'booking confirmation');
  await shadow(page, '.state', { hasText: 'ended' }).waitFor();
  await page.screenshot({ path: join(shots, 'booked-1280.png') });
  const meetings = await backend.meetings();
  assert(meetings.length === 1 && meetings[0].email === email && meetings[0].agent === 'Alice Agent', 'meeting booked with the lead: ' + JSON.stringify(meetings));
  const book = posted(net, 'book');
  assert(book.length === 1 && book[0].status === 201, 'one booking, answered 201: ' + book.map((b) => b.status));
  const dom = await page.evaluate(() => window.__dom.map((e) => e[0]));
  for (const n of ['meeting-booked', 'goal', 'completed']) assert(dom.includes(n), 'DOM event ' + n + ' in ' + dom);
  await ctx.close();
});

test('consent mode: no cookies, localStorage or IndexedDB before consent; conversation works in memory', async () => {
  await backend.reset();
  const { ctx, page } = await newPage();
  await page.goto(q('/pricing', '&consent=1'));
  await openChat(page);
  await shadow(page, '.choice', { hasText: 'Talk to sales' }).first().click();
  const email = mail('private', 'acme.test');
  await answerEmail(page, email);
  await shadow(page, 'input[autocomplete=organization]').waitFor();
  const storage = async () => page.evaluate(async () => ({ ls: Object.keys(localStorage), ss: Object.keys(sessionStorage), cookie: document.cookie, idb: (await indexedDB.databases()).map((d) => d.name) }));
  const before = await storage();
  assert(before.ls.length === 0 && before.ss.length === 0 && before.cookie === '' && before.idb.length === 0, 'nothing stored: ' + JSON.stringify(before));
  assert((await ctx.cookies()).length === 0, 'no cookies');
  await waitFor(async () => (await backend.leads(email)).length === 1, 'lead still sent');
  await page.evaluate(() => window.dynchat.consent(true));
  const after = await storage();
  assert(after.ls.some((k) => k === 'dynchat:acme:chat'), 'stored after consent: ' + after.ls);
  await ctx.close();
});

test('offline, then reconnect and reload: the lead arrives exactly once (same Idempotency-Key)', async () => {
  await backend.reset();
  const { ctx, page, net } = await newPage();
  const email = mail('offline', 'acme.test');
  // The network as the page sees it: down while offline; the first lead POST after reconnecting reaches
  // the API (which stores it) but its answer is lost on the way back, like a dropped connection.
  let online = true, lost = 0;
  await page.route(/\/v1\/sites\/[^/]+\/leads$/, async (route) => {
    if (!online) return route.abort('internetdisconnected');
    if (lost++ === 0) { await route.fetch().catch(() => null); return route.abort('connectionreset'); }
    return route.continue();
  });
  await page.goto(q('/pricing'));
  await openChat(page);
  await shadow(page, '.choice', { hasText: 'Talk to sales' }).first().click();
  online = false;
  await ctx.setOffline(true);
  await answerEmail(page, email);
  await shadow(page, 'input[autocomplete=organization]').waitFor();
  const box = await page.evaluate(() => JSON.parse(localStorage.getItem('dynchat:acme:outbox') || '[]'));
  assert(box.length === 1, 'lead kept in the outbox while offline');
  await ctx.setOffline(false);
  online = true;
  await page.reload();
  await shadow(page, 'input[autocomplete=organization]').waitFor();
  await waitFor(async () => (await page.evaluate(() => JSON.parse(localStorage.getItem('dynchat:acme:outbox') || '[]'))).length === 0, 'outbox emptied');
  const attempts = posted(net, 'leads');
  assert(lost >= 2, 'a retry after the lost answer (requests that reached the network: ' + lost + ')');
  assert(new Set(attempts.map((a) => a.key)).size === 1, 'every attempt used the same key: ' + attempts.map((a) => a.key));
  assert(attempts.some((a) => a.status === 200), 'the API answered a retry as a replay (200): ' + attempts.map((a) => a.status || a.failed));
  const stored = await backend.leads(email);
  assert(stored.length === 1, 'exactly one lead stored, got ' + stored.length);
  if (REAL) {
    const delivered = await backend.delivered(email);
    assert(delivered.email.toLowerCase() === email, 'the lead reached Marketo');
  }
  await ctx.close();
});

test('strict CSP page: widget works, no violation', async () => {
  await backend.reset();
  const { ctx, page } = await newPage();
  await page.goto(q('/pricing', '&csp=1'));
  await openChat(page);
  await shadow(page, '.choice', { hasText: 'Talk to sales' }).first().click();
  await shadow(page, 'input[type=email]').waitFor();
  const csp = await page.evaluate(() => window.__csp);
  assert(csp.length === 0, 'CSP violations: ' + csp.join(', '));
  const bg = await shadow(page, '.launcher').evaluate((e) => getComputedStyle(e).backgroundColor);
  assert(bg === 'rgb(29, 78, 216)', 'styles applied under CSP (launcher ' + bg + ')');
  await ctx.close();
});

test('XSS payloads in dialogue text, bot name, buttons and visitor input render as text', async () => {
  await backend.reset();
  const { ctx, page } = await newPage();
  await page.goto(q('/anything', '&site=xss'));
  await shadow(page, '.launcher').waitFor();
  await shadow(page, '.launcher').click();
  await shadow(page, '.choice').first().waitFor();
  await shadow(page, 'input').fill('<img src=x onerror="window.__pwned=\'input\'">');
  await shadow(page, 'input').press('Enter');
  await waitFor(async () => (await shadow(page, '.log').textContent()).includes('You said:'), 'echo');
  await new Promise((r) => setTimeout(r, 300));
  const pwned = await page.evaluate(() => window.__pwned);
  assert(pwned === undefined, 'payload executed: ' + pwned);
  const text = await shadow(page, '.log').textContent();
  assert(text.includes('<img src=x onerror') && text.includes('[click](javascript:'), 'payload shown as text');
  assert(await page.evaluate(() => document.querySelector('#dynchat-widget').shadowRoot.querySelectorAll('img[src=x],svg[onload],b[onclick],a[href^="javascript"]').length) === 0, 'no element from payloads');
  assert((await shadow(page, 'h2').textContent()).startsWith('<img'), 'bot name as text');
  await page.screenshot({ path: join(shots, 'xss-1280.png') });
  await ctx.close();
});

languageTests({ test, newPage, q, shadow, waitFor, assert, root, shots, fixtures, sideStub, sideConfig, backend });
noSlotTests({ test, newPage, q, shadow, waitFor, assert, root, shots, sideStub, sideConfig, mail });
branchTests({ test, newPage, q, shadow, waitFor, assert, backend });
patternTests({ test, newPage, q, shadow, waitFor, assert, sideStub, endpoint, root });
dictionaryTests({ test, newPage, q, shadow, assert, root, endpoint, REAL });
facadeTests({ test, newPage, q, shadow, waitFor, assert, backend, root });

for (const scheme of ['light', 'dark']) {
  test(`axe-core WCAG 2.2 AA on the open widget (${scheme})`, async () => {
    await backend.reset();
    const { ctx, page } = await newPage({ colorScheme: scheme, reducedMotion: 'reduce' });
    await page.goto(q('/pricing'));
    await openChat(page);
    await shadow(page, '.choice', { hasText: 'Talk to sales' }).first().click();
    await answerEmail(page, 'bad');
    await shadow(page, '.err').waitFor();
    await page.addScriptTag({ path: join(root, 'node_modules/axe-core/axe.min.js') });
    const res = await page.evaluate(() => window.axe.run(document.querySelector('#dynchat-widget'), { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa', 'wcag22aa'] } }));
    await page.screenshot({ path: join(shots, `open-${scheme}-1280.png`) });
    const v = res.violations.map((x) => `${x.id}: ${x.nodes.map((n) => n.target.join(' ')).join('; ')}`);
    assert(v.length === 0, v.join(' | '));
    assert(res.passes.length > 10, 'axe ran (' + res.passes.length + ' passes)');
    await page.keyboard.press('Escape');
    await waitFor(async () => await shadow(page, '.panel').isHidden(), 'Escape closes the panel');
    assert(await page.evaluate(() => document.querySelector('#dynchat-widget').shadowRoot.activeElement?.className) === 'launcher', 'focus back on the launcher');
    await ctx.close();
  });
}

test('mobile 375 px screenshots', async () => {
  const { ctx, page } = await newPage({ viewport: { width: 375, height: 740 } });
  await page.goto(q('/pricing'));
  await shadow(page, '.poke').waitFor();
  await page.screenshot({ path: join(shots, 'poke-375.png') });
  await openChat(page);
  await page.screenshot({ path: join(shots, 'open-375.png') });
  const box = await shadow(page, '.panel').boundingBox();
  assert(box && box.width === 375, 'full-width panel on a phone');
  assert(await shadow(page, '.launcher').isHidden(), 'launcher does not cover the composer on a phone');
  await ctx.close();
});

test('npm package (npm pack) works in a Vite app', async () => {
  await backend.reset();
  const work = join(root, 'target/npm-app');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const tgz = execFileSync('npm', ['pack', join(root, 'dist/npm'), '--pack-destination', work, '--silent'], { cwd: work }).toString().trim().split('\n').pop();
  cpSync(join(root, 'tests/browser/npm-app'), work, { recursive: true });
  execFileSync('tar', ['xzf', join(work, tgz), '-C', work]);
  mkdirSync(join(work, 'node_modules/@dynchat'), { recursive: true });
  cpSync(join(work, 'package'), join(work, 'node_modules/@dynchat/widget'), { recursive: true });
  execFileSync(join(root, 'node_modules/.bin/vite'), ['build', '--base', './', '--logLevel', 'warn'], { cwd: work, env: { ...process.env, NODE_PATH: join(root, 'node_modules') } });
  assert(readdirSync(join(work, 'dist/assets')).some((f) => f.endsWith('.wasm')), 'wasm emitted by Vite');
  const { ctx, page } = await newPage();
  await page.goto(`${siteUrl}/pricing-app/index.html?endpoint=${encodeURIComponent(endpoint)}`);
  await shadow(page, '.launcher').waitFor();
  await openChat(page);
  await shadow(page, '.choice', { hasText: 'Talk to sales' }).first().click();
  const ev = await waitFor(async () => { const e = await page.evaluate(() => window.__events); return e.length >= 2 ? e : null; }, 'npm callbacks');
  assert(ev[0][0] === 'triggered' && ev[1][0] === 'engaged', 'callbacks: ' + JSON.stringify(ev));
  await ctx.close();
});

let failed = 0;
for (const t of tests) {
  if (only && !t.name.includes(only)) continue;
  const t0 = Date.now();
  consoleLines = [];
  netRecord.mark();
  try {
    await Promise.race([t.fn(), new Promise((_, no) => setTimeout(() => no(new Error('test timed out after 90 s')), 90000))]);
    console.log(`ok   ${t.name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${t.name}: ${String(e.message || e).split('\n')[0].slice(0, 400)}`);
    for (const l of consoleLines.slice(0, 5)) console.log(`     browser: ${l.slice(0, 300)}`);
    netRecord.report(t.name);
  }
}
await browser.close();
site.closeAllConnections(); site.close();
if (stub) await stub.close();
if (side) await side.close();
console.log(failed ? `${failed} failed` : 'all passed');
process.exit(failed ? 1 : 0);
