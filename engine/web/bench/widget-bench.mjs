// Widget benchmark in Chromium: `node engine/web/bench/widget-bench.mjs --peers <dir with node_modules> [--runs 5]
// [--only no-match,match,scroll,typebot] [--dist DIR] [--net LATENCY_MS,KBITS]`.
// Needs dist/widget built and the Typebot package installed under --peers (xtask widget::bench does both).
// For each scenario and run: a fresh browser context (cold HTTP cache) loads a static page, then the
// widget's script tag is inserted; from that moment ("loader start") it measures wall time and
// main-thread busy time (CDP Performance.getMetrics TaskDuration delta) until the launcher is visible
// and, after a click on it, until the first bot message is in the DOM. Prints JSON [[name, value], ...]
// with medians. Everything binds 127.0.0.1; every wait has a timeout.
import { createServer } from 'node:http';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { createStub } from '../../../tests/browser/stub-server.mjs';

const root = new URL('../../../', import.meta.url).pathname;
const argv = process.argv.slice(2);
const opt = (n, d) => { const i = argv.indexOf(n); return i >= 0 ? argv[i + 1] : d; };
const runs = Math.max(1, Math.min(25, +opt('--runs', 5)));
const peers = opt('--peers', join(root, 'target/bench-peers/node_modules'));
const typebotJs = join(peers, '@typebot.io/js/dist/web.js');
if (!existsSync(join(root, 'dist/widget/loader.js'))) { console.error('dist/widget is missing'); process.exit(2); }
if (!existsSync(typebotJs)) { console.error(`${typebotJs} is missing`); process.exit(2); }

const FIRST = "Hi there! I'm Ava.";
// --dist DIR: serve the widget from DIR/widget instead of dist/widget (to compare two builds).
const stub = createStub({ root, fixtures: join(root, 'tests/browser/fixtures/sites.json'), dist: opt('--dist', join(root, 'dist')) });
const endpoint = await stub.listen(0);

// The customer site: an empty page, the Typebot library, and a minimal Typebot startChat answer.
const typebotAnswer = JSON.stringify({
  sessionId: 'bench-session', resultId: 'bench-result',
  typebot: { id: 'bench', theme: {}, settings: {} },
  messages: [{ id: 'm1', type: 'text', content: { type: 'richText', richText: [{ type: 'p', children: [{ text: FIRST }] }] } }],
});
const site = createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/typebot/web.js') {
    res.writeHead(200, { 'content-type': 'text/javascript' });
    return res.end(readFileSync(typebotJs));
  }
  if (url.pathname.startsWith('/api/')) {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(url.pathname.endsWith('/startChat') ? typebotAnswer : '{}');
  }
  if (url.pathname === '/favicon.ico') { res.writeHead(404); return res.end(); }
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  const filler = url.pathname.startsWith('/guide') ? '<p>Acme builds reliable widgets for demanding teams.</p>'.repeat(200) : '';
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme ${url.pathname.replace(/[^a-z/]/g, '')}</title></head><body><main><h1>Acme</h1><p>Compare plans and talk to our team.</p>${filler}</main></body></html>`);
});
const siteUrl = await new Promise((ok) => site.listen(0, '127.0.0.1', () => ok(`http://127.0.0.1:${site.address().port}`)));

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

// In-page probes (run by waitForFunction; each returns a truthy value once the state is reached).
const probes = {
  dynchatReady: () => window.dynchat && window.dynchat.ready && (window.__ready = window.__ready || window.dynchat.ready.then(() => (window.__done = true))) && window.__done,
  dynchatLauncher: () => { const b = document.querySelector('#dynchat-widget')?.shadowRoot?.querySelector('.launcher'); return !!b && b.getBoundingClientRect().width > 0 && getComputedStyle(b).visibility !== 'hidden'; },
  dynchatClick: () => document.querySelector('#dynchat-widget').shadowRoot.querySelector('.launcher').click(),
  dynchatFirst: () => [...(document.querySelector('#dynchat-widget')?.shadowRoot?.querySelectorAll('.msg.bot') || [])].some((m) => m.textContent.includes("I'm Ava")),
  typebotLauncher: () => { const b = document.querySelector('typebot-bubble')?.shadowRoot?.querySelector('button'); return !!b && b.getBoundingClientRect().width > 0; },
  typebotClick: () => document.querySelector('typebot-bubble').shadowRoot.querySelector('button').click(),
  typebotFirst: () => (document.querySelector('typebot-bubble')?.shadowRoot?.textContent || '').includes("I'm Ava"),
};

async function once(kind, path) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, timezoneId: 'Europe/Amsterdam' });
  try {
    const page = await ctx.newPage();
    page.setDefaultTimeout(20000);
    const cdp = await ctx.newCDPSession(page);
    if (net) {
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: net[0], downloadThroughput: (net[1] * 1000) / 8, uploadThroughput: (net[1] * 1000) / 8 });
    }
    await page.goto(siteUrl + path, { waitUntil: 'load' });
    await cdp.send('Performance.enable');
    const busy = async () => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration').value * 1000;
    const mark = async () => ({ t: await page.evaluate(() => performance.now()), busy: await busy() });
    const since = async (a) => { const b = await mark(); return { wall: b.t - a.t, main: b.busy - a.busy }; };
    const wait = (fn) => page.waitForFunction(fn, null, { polling: 'raf', timeout: 20000 });
    const out = {};
    const t0 = await mark();
    if (kind === 'typebot') {
      await page.evaluate((src) => {
        const s = document.createElement('script');
        s.type = 'module';
        s.textContent = `import Typebot from '${src}'; Typebot.initBubble({ typebot: 'bench', apiHost: location.origin });`;
        document.body.append(s);
      }, siteUrl + '/typebot/web.js');
    } else {
      await page.evaluate(([src, api]) => {
        const s = document.createElement('script');
        s.src = src; s.async = true; s.dataset.site = 'acme'; s.dataset.endpoint = api;
        document.body.append(s);
      }, [endpoint + '/widget/loader.js', endpoint]);
    }
    if (kind === 'scroll') {
      // A scroll-depth rule: the visitor reads for a second after targeting, then scrolls down.
      await wait(probes.dynchatReady);
      await page.waitForTimeout(1000);
      const t1 = await mark();
      await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
      await wait(probes.dynchatLauncher);
      out.scroll = await since(t1);
      return out;
    }
    if (kind === 'no-match') {
      await wait(probes.dynchatReady);
      Object.assign(out, { ready: await since(t0) });
      return out;
    }
    const p = kind === 'typebot' ? ['typebotLauncher', 'typebotClick', 'typebotFirst'] : ['dynchatLauncher', 'dynchatClick', 'dynchatFirst'];
    await wait(probes[p[0]]);
    out.launcher = await since(t0);
    await page.evaluate(probes[p[1]]);
    try {
      await wait(probes[p[2]]);
      out.first = await since(t0);
    } catch (e) {
      out.first = null; // e.g. the peer's API answer was not understood
    }
    return out;
  } finally {
    await ctx.close();
  }
}

const median = (xs) => { const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b); return s.length ? s[(s.length - 1) >> 1] : NaN; };
const fmt = (xs) => { const m = median(xs); return Number.isFinite(m) ? `${m.toFixed(0)} ms` : 'n/a'; };
const results = [];
const only = opt('--only');
// --net LATENCY_MS,KBITS: Chromium's network emulation (e.g. 40,10000), else localhost as it is.
const netOpt = opt('--net');
const net = netOpt ? netOpt.split(',').map(Number) : null;
const scenarios = [['dynchat, no dialogue matches (/about)', 'no-match', '/about'], ['dynchat, dialogue matches (/pricing)', 'match', '/pricing'], ['dynchat, scroll-depth rule (/guide)', 'scroll', '/guide'], ['Typebot bubble @typebot.io/js', 'typebot', '/pricing']]
  .filter(([, kind]) => !only || only.split(',').includes(kind));
try {
  for (const [label, kind, path] of scenarios) {
    const rs = [];
    await once(kind, path); // warm-up (browser process, compilation caches of Chromium itself)
    for (let i = 0; i < runs; i++) rs.push(await once(kind, path));
    const col = (k, f) => rs.map((r) => (r[k] ? r[k][f] : NaN));
    if (kind === 'scroll') {
      results.push([`${label}: main thread, scrolled -> launcher visible`, fmt(col('scroll', 'main'))]);
      results.push([`${label}: wall, scrolled -> launcher visible`, fmt(col('scroll', 'wall'))]);
    } else if (kind === 'no-match') {
      results.push([`${label}: main thread, loader start -> targeting done`, fmt(col('ready', 'main'))]);
      results.push([`${label}: wall, loader start -> targeting done`, fmt(col('ready', 'wall'))]);
    } else {
      results.push([`${label}: main thread, loader start -> launcher visible`, fmt(col('launcher', 'main'))]);
      results.push([`${label}: wall, loader start -> launcher visible`, fmt(col('launcher', 'wall'))]);
      results.push([`${label}: main thread, loader start -> first bot message (launcher clicked)`, fmt(col('first', 'main'))]);
      results.push([`${label}: wall, loader start -> first bot message (launcher clicked)`, fmt(col('first', 'wall'))]);
    }
  }
  results.push(['runs per scenario (median; fresh context = cold HTTP cache)', String(runs)]);
  results.push(['network (Chromium emulation: latency ms, kbit/s)', netOpt || 'none (localhost)']);
} finally {
  await browser.close();
  site.close();
  stub.close?.();
}
console.log(JSON.stringify(results));
process.exit(0);
