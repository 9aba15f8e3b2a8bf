// Widget benchmark in Chromium: `node engine/web/bench/widget-bench.mjs --peers <dir with node_modules> [--runs 7]
// [--only blank,no-match,match,scroll,typebot,typebot-msg] [--dist DIR[,DIR2..]] [--net LATENCY_MS,KBITS] [--trace N] [--omnibox]`.
// Needs dist/widget built and the Typebot package installed under --peers (xtask widget::bench does both).
// For each scenario and run: a fresh browser context (cold HTTP cache) loads a static page, then a
// script tag is inserted; from that moment ("loader start") it measures wall time and main-thread
// busy time (CDP Performance.getMetrics TaskDuration delta) until the launcher is visible and, after
// a click on it, until the first bot message is in the DOM. The blank page gets an empty script tag
// and is measured the same way (to the script's end): its figures are what the measuring itself
// costs (CDP calls, the rAF polling of the probes), and the widget's rows say how far above it they
// are, as issue 12 asks. Runs are interleaved (run 1 of every scenario, then run 2...), so load from
// other processes spreads evenly; with several --dist builds each dynchat scenario runs once per
// build in every round (to compare two builds in the same run). Prints JSON [[name, value], ...] with
// medians (at least 7 runs are asked for by issue 12). `--trace N` (default 1; 0: none): N more
// rounds of the blank, no-match, match and Typebot pages with a Chromium trace (not counted in the
// medians: tracing slows the page) from loader start to the same moment, summarised as main-thread
// self time by trace event name (median over the traced rounds; names above 1 ms on any page),
// and the busy time of every other thread (the page's renderer, the browser, the GPU process).
// Everything binds 127.0.0.1; every wait has a timeout.
import { createServer } from 'node:http';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { chromium } from 'playwright-core';
import { createStub } from '../../../tests/browser/stub-server.mjs';

const root = new URL('../../../', import.meta.url).pathname;
const argv = process.argv.slice(2);
const opt = (n, d) => { const i = argv.indexOf(n); return i >= 0 ? argv[i + 1] : d; };
const runs = Math.max(1, Math.min(25, +opt('--runs', 7)));
const traces = Math.max(0, Math.min(9, +opt('--trace', 1)));
const peers = opt('--peers', join(root, 'target/bench-peers/node_modules'));
const typebotJs = join(peers, '@typebot.io/js/dist/web.js');
if (!existsSync(join(root, 'dist/widget/loader.js'))) { console.error('dist/widget is missing'); process.exit(2); }
if (!existsSync(typebotJs)) { console.error(`${typebotJs} is missing`); process.exit(2); }

const FIRST = "Hi there! I'm Ava.";
// --dist DIR[,DIR2..]: serve the widget from DIR/widget instead of dist/widget (several: to compare
// builds in one run; each gets its own stub API, and its rows are labelled with the directory).
const dists = (opt('--dist') || join(root, 'dist')).split(',');

// The servers (stub APIs serving the widget, the customer site serving the Typebot library) run in
// a worker thread: in this thread they would share the event loop with the Playwright driver, whose
// polling and CDP traffic would delay every response (and a chain of requests more than one).
async function serve({ dists, typebotJs }) {
  const stubs = dists.map((dist) => createStub({ root, fixtures: join(root, 'tests/browser/fixtures/sites.json'), dist }));
  const endpoints = [];
  for (const s of stubs) endpoints.push(await s.listen(0));
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
    if (url.pathname === '/blank.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      return res.end('window.__blank = true;');
    }
    if (url.pathname === '/favicon.ico') { res.writeHead(404); return res.end(); }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    const filler = url.pathname.startsWith('/guide') ? '<p>Acme builds reliable widgets for demanding teams.</p>'.repeat(200) : '';
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme ${url.pathname.replace(/[^a-z/]/g, '')}</title></head><body><main><h1>Acme</h1><p>Compare plans and talk to our team.</p>${filler}</main></body></html>`);
  });
  const siteUrl = await new Promise((ok) => site.listen(0, '127.0.0.1', () => ok(`http://127.0.0.1:${site.address().port}`)));
  return { endpoints, siteUrl };
}
if (!isMainThread) {
  parentPort.postMessage(await serve(workerData));
  await new Promise(() => {}); // serves until the main thread terminates this worker
}
const servers = new Worker(new URL(import.meta.url), { workerData: { dists, typebotJs }, argv });
const { endpoints, siteUrl } = await new Promise((ok, fail) => { servers.once('message', ok); servers.once('error', fail); });
// The welcome text of dynchat's launcher bubble on the match page (the fixture's), for Typebot's.
// (Asked only when that page is run: `--only` may leave it out.)
let welcome = '';
if (!opt('--only') || opt('--only').split(',').includes('typebot-msg')) {
  const bubble = (await (await fetch(endpoints[0] + '/v1/sites/acme/bundle')).json()).launcher?.html || '';
  welcome = (bubble.match(/class=poke-open[^>]*>([^<]*)/) || [])[1]?.replace(/&(amp|lt|gt|quot|#39);/g, (_, e) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]);
  if (!welcome) { console.error('the bundle of site acme has no launcher bubble text'); process.exit(2); }
}

// Every new context opens a browser window, and Chromium (156) then (pre)loads the omnibox popup's
// WebUI renderer for it: 100-250 ms of CPU (its main thread and 2-3 workers parsing chrome://
// scripts) that overlapped the measured window in about half of the runs, descheduling the page's
// main thread on a 2-core machine (a longer window caught it more often). A visitor's browser does
// that once per window, not per page load: left out (`--omnibox`: Chromium's default, to compare).
const quiet = argv.includes('--omnibox') ? [] : ['--disable-features=WebUIOmniboxPopup,WebUIOmniboxFullPopup,WebUIOmniboxAimPopup,PreloadTopChromeWebUI,PreloadTopChromeWebUILessNavigations'];
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...quiet],
});

// In-page probes (run by waitForFunction; each returns a truthy value once the state is reached).
const probes = {
  dynchatReady: () => window.dynchat && window.dynchat.ready && (window.__ready = window.__ready || window.dynchat.ready.then(() => (window.__done = true))) && window.__done,
  // The launcher, and its welcome bubble when the dialogue has one (both come in one DOM insertion).
  dynchatLauncher: () => { const r = document.querySelector('#dynchat-widget')?.shadowRoot, b = r?.querySelector('.launcher'), p = r?.querySelector('.poke'); return !!b && b.getBoundingClientRect().width > 0 && getComputedStyle(b).visibility !== 'hidden' && (!p || p.hidden || p.getBoundingClientRect().width > 0); },
  dynchatClick: () => document.querySelector('#dynchat-widget').shadowRoot.querySelector('.launcher').click(),
  dynchatFirst: () => [...(document.querySelector('#dynchat-widget')?.shadowRoot?.querySelectorAll('.msg.bot') || [])].some((m) => m.textContent.includes("I'm Ava")),
  typebotLauncher: () => { const b = document.querySelector('typebot-bubble')?.shadowRoot?.querySelector('button[part=button]'); return !!b && b.getBoundingClientRect().width > 0; },
  // The welcome message too (Typebot's preview message shows in a later task than its button).
  typebotWelcome: () => { const r = document.querySelector('typebot-bubble')?.shadowRoot, b = r?.querySelector('button[part=button]'), m = r?.querySelector('[part=preview-message]'); return !!b && !!m && b.getBoundingClientRect().width > 0 && m.getBoundingClientRect().width > 0; },
  typebotClick: () => document.querySelector('typebot-bubble').shadowRoot.querySelector('button[part=button]').click(),
  typebotFirst: () => (document.querySelector('typebot-bubble')?.shadowRoot?.textContent || '').includes("I'm Ava"),
};

// The trace's categories: tasks, script, wasm compilation, style, layout, paint, loading.
const TRACE = '-*,toplevel,devtools.timeline,disabled-by-default-devtools.timeline,v8,v8.execute,v8.wasm,loading,blink.user_timing';

// Ends a trace and returns the main-thread self time (ms) by event name, as [wall, CPU]: each
// event's duration (`dur`; CPU: the thread time `tdur`, which load from other processes does not
// inflate) less its children's, on the main thread of the page's renderer (the process that the
// trace's TracingStartedInBrowser names for the page's main frame), so the names add up to the
// thread's busy time in the trace.
async function endTrace(cdp, events) {
  const complete = new Promise((ok) => cdp.once('Tracing.tracingComplete', ok));
  await cdp.send('Tracing.end');
  await Promise.race([complete, new Promise((ok) => setTimeout(ok, 20000))]);
  const frames = events.filter((e) => e.name === 'TracingStartedInBrowser').flatMap((e) => e.args.data.frames || []);
  const pids = new Set(frames.filter((f) => f.isOutermostMainFrame && f.url.startsWith(siteUrl)).map((f) => f.processId));
  const mains = new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args.name === 'CrRendererMain' && pids.has(e.pid)).map((e) => `${e.pid}:${e.tid}`));
  const threads = new Map(); // spans {name, ts, dur} (microseconds) per main thread
  const open = new Map(); // B events waiting for their E, per thread
  for (const e of events) {
    const k = `${e.pid}:${e.tid}`;
    if (!mains.has(k)) continue;
    if (!threads.has(k)) { threads.set(k, []); open.set(k, []); }
    if (e.ph === 'X' && e.dur > 0) threads.get(k).push({ name: e.name, ts: e.ts, dur: e.dur, cpu: e.tdur || 0 });
    else if (e.ph === 'B') open.get(k).push(e);
    else if (e.ph === 'E') { const b = open.get(k).pop(); if (b && e.ts > b.ts) threads.get(k).push({ name: b.name, ts: b.ts, dur: e.ts - b.ts, cpu: e.tts - b.tts || 0 }); }
  }
  const spans = threads.size === 1 ? [...threads.values()][0] : [];
  spans.sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  const self = {}, stack = [];
  for (const x of spans) {
    while (stack.length && stack[stack.length - 1].ts + stack[stack.length - 1].dur <= x.ts) stack.pop();
    const parent = stack[stack.length - 1];
    if (parent) {
      self[parent.name][0] -= Math.min(x.dur, parent.ts + parent.dur - x.ts) / 1000;
      self[parent.name][1] -= Math.min(x.cpu, parent.cpu) / 1000;
    }
    const t = (self[x.name] ||= [0, 0]);
    t[0] += x.dur / 1000;
    t[1] += x.cpu / 1000;
    stack.push(x);
  }
  // Every thread of every process (the page's main thread is descheduled while the others work:
  // on 2 cores their CPU counts too): busy time of the outermost events of each thread, by process.
  const pname = new Map(events.filter((e) => e.ph === 'M' && e.name === 'process_name').map((e) => [e.pid, e.args.name]));
  const kind = (e) => (mains.has(`${e.pid}:${e.tid}`) ? null : pids.has(e.pid) ? 'page renderer, other threads' : pname.get(e.pid) === 'Browser' ? 'browser process' : pname.get(e.pid) === 'GPU Process' ? 'GPU process' : 'other processes');
  // (Other processes, e.g. Chromium's own WebUI renderers, are not in a page session's trace.)
  const outer = new Map();
  for (const e of events) if (e.ph === 'X' && e.dur > 0) { const k = `${e.pid}:${e.tid}`; if (!outer.has(k)) outer.set(k, []); outer.get(k).push(e); }
  const every = {};
  for (const xs of outer.values()) {
    const k = kind(xs[0]);
    if (!k) continue;
    xs.sort((a, b) => a.ts - b.ts);
    let end = 0;
    const t = (every[k] ||= [0, 0]);
    for (const x of xs) if (x.ts >= end) { t[0] += x.dur / 1000; t[1] += (x.tdur || 0) / 1000; end = x.ts + x.dur; }
  }
  return { self, every };
}

// One cold run; `traced`: with a Chromium trace, up to the launcher (or targeting, or the script) only.
async function once(kind, path, endpoint, traced = false) {
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
    const events = traced ? [] : null;
    if (traced) {
      cdp.on('Tracing.dataCollected', (e) => events.push(...e.value));
      await cdp.send('Tracing.start', { categories: TRACE, transferMode: 'ReportEvents' });
    }
    const t0 = await mark();
    if (kind === 'blank') {
      await page.evaluate((src) => {
        const s = document.createElement('script');
        s.src = src; s.async = true;
        document.body.append(s);
      }, siteUrl + '/blank.js');
      await wait(() => window.__blank);
      out.ready = await since(t0);
      if (traced) out.trace = await endTrace(cdp, events);
      return out;
    }
    if (kind.startsWith('typebot')) {
      // `typebot-msg`: with Typebot's own welcome bubble (`previewMessage`, shown at once) saying
      // what dynchat's launcher bubble says on this page, so both draw the same thing.
      const o = kind === 'typebot-msg' ? `, previewMessage: { message: ${JSON.stringify(welcome)}, autoShowDelay: 0 }` : '';
      await page.evaluate((src) => {
        const s = document.createElement('script');
        s.type = 'module';
        s.textContent = src;
        document.body.append(s);
      }, `import Typebot from '${siteUrl}/typebot/web.js'; Typebot.initBubble({ typebot: 'bench', apiHost: location.origin${o} });`);
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
      if (traced) out.trace = await endTrace(cdp, events);
      return out;
    }
    const p = kind === 'typebot' ? ['typebotLauncher', 'typebotClick', 'typebotFirst'] : kind === 'typebot-msg' ? ['typebotWelcome', 'typebotClick', 'typebotFirst'] : ['dynchatLauncher', 'dynchatClick', 'dynchatFirst'];
    await wait(probes[p[0]]);
    out.launcher = await since(t0);
    if (traced) {
      out.trace = await endTrace(cdp, events);
      return out;
    }
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
const ms = (m) => (Number.isFinite(m) ? `${m.toFixed(0)} ms` : 'n/a');
const fmt = (xs) => ms(median(xs));
// Above the blank page: the median's distance from the blank page's median (same measure).
const above = (xs, base) => (Number.isFinite(base) ? ms(median(xs) - base) : 'n/a (no blank page run)');
const results = [];
const only = opt('--only');
// --net LATENCY_MS,KBITS: Chromium's network emulation (e.g. 40,10000), else localhost as it is.
const netOpt = opt('--net');
const net = netOpt ? netOpt.split(',').map(Number) : null;
const base = [['blank page (an empty script tag)', 'blank', '/pricing'], ['dynchat, no dialogue matches (/about)', 'no-match', '/about'], ['dynchat, dialogue matches (/pricing)', 'match', '/pricing'], ['dynchat, scroll-depth rule (/guide)', 'scroll', '/guide'], ['Typebot bubble @typebot.io/js (button only)', 'typebot', '/pricing'], ['Typebot bubble @typebot.io/js + the same welcome message', 'typebot-msg', '/pricing']]
  .filter(([, kind]) => !only || only.split(',').includes(kind));
// Each dynchat scenario once per build (--dist), labelled with its directory when there are several.
const scenarios = base.flatMap(([label, kind, path]) => (['no-match', 'match', 'scroll'].includes(kind)
  ? endpoints.map((e, i) => [dists.length > 1 ? `${label} [${dists[i]}]` : label, kind, path, e])
  : [[label, kind, path, endpoints[0]]]));
try {
  const rs = scenarios.map(() => []);
  // Warm-up (browser process, compilation caches of Chromium itself), then the rounds, interleaved.
  for (const [, kind, path, e] of scenarios) await once(kind, path, e);
  for (let i = 0; i < runs; i++) for (const [n, [, kind, path, e]] of scenarios.entries()) rs[n].push(await once(kind, path, e));
  const col = (n, k, f) => rs[n].map((r) => (r[k] ? r[k][f] : NaN));
  const blank = scenarios.findIndex(([, kind]) => kind === 'blank');
  const blankMain = blank >= 0 ? median(col(blank, 'ready', 'main')) : NaN;
  const blankWall = blank >= 0 ? median(col(blank, 'ready', 'wall')) : NaN;
  for (const [n, [label, kind]] of scenarios.entries()) {
    if (kind === 'blank') {
      results.push([`${label}: main thread, script start -> script done`, ms(blankMain)]);
      results.push([`${label}: wall, script start -> script done`, ms(blankWall)]);
    } else if (kind === 'scroll') {
      results.push([`${label}: main thread, scrolled -> launcher visible`, fmt(col(n, 'scroll', 'main'))]);
      results.push([`${label}: wall, scrolled -> launcher visible`, fmt(col(n, 'scroll', 'wall'))]);
    } else if (kind === 'no-match') {
      results.push([`${label}: main thread, loader start -> targeting done`, fmt(col(n, 'ready', 'main'))]);
      results.push([`${label}: main thread above the blank page, loader start -> targeting done`, above(col(n, 'ready', 'main'), blankMain)]);
      results.push([`${label}: wall, loader start -> targeting done`, fmt(col(n, 'ready', 'wall'))]);
    } else {
      results.push([`${label}: main thread, loader start -> launcher visible`, fmt(col(n, 'launcher', 'main'))]);
      results.push([`${label}: main thread above the blank page, loader start -> launcher visible`, above(col(n, 'launcher', 'main'), blankMain)]);
      results.push([`${label}: wall, loader start -> launcher visible`, fmt(col(n, 'launcher', 'wall'))]);
      results.push([`${label}: main thread, loader start -> first bot message (launcher clicked)`, fmt(col(n, 'first', 'main'))]);
      results.push([`${label}: wall, loader start -> first bot message (launcher clicked)`, fmt(col(n, 'first', 'wall'))]);
      results.push([`${label}: wall, click -> first bot message`, fmt(rs[n].map((r) => (r.first && r.launcher ? r.first.wall - r.launcher.wall : NaN)))]);
    }
    // Every run's figure, for the honest spread (main thread / wall, ms).
    const k = kind === 'scroll' ? 'scroll' : kind === 'blank' || kind === 'no-match' ? 'ready' : 'launcher';
    results.push([`${label}: each run, main/wall ms`, rs[n].map((r) => (r[k] ? `${r[k].main.toFixed(0)}/${r[k].wall.toFixed(0)}` : 'n/a')).join(' ')]);
  }
  // Issue 12's timing targets, judged on these medians: met or NOT met, per dynchat build.
  const meds = (kind, k, f) => scenarios.flatMap(([label, kd], n) => (kd === kind ? [[label, median(col(n, k, f))]] : []));
  const verdict = (ok) => (ok ? 'met' : 'NOT met');
  // Against each Typebot page: the button alone, and the button with the same welcome message as
  // dynchat's launcher bubble (the like-for-like page: the same text drawn, its font lookups paid).
  const tbs = [['typebot', "Typebot's (button only)"], ['typebot-msg', "Typebot's with the same welcome message"]]
    .map(([k, name]) => [scenarios.findIndex(([, kind]) => kind === k), name]).filter(([n]) => n >= 0);
  if (Number.isFinite(blankMain)) {
    for (const [label, m] of meds('no-match', 'ready', 'main')) results.push([`issue 12 target: ${label}, main thread above the blank page at most 25 ms`, `${ms(m - blankMain)}: ${verdict(m - blankMain <= 25)}`]);
    for (const [tb, name] of tbs) {
      const tMain = median(col(tb, 'launcher', 'main')) - blankMain;
      for (const [label, m] of meds('match', 'launcher', 'main')) {
        const r = (m - blankMain) / tMain;
        results.push([`issue 12 target: ${label}, main thread above the blank page at most half of ${name}`, `${ms(m - blankMain)} vs ${ms(tMain)} = ${r.toFixed(2)}: ${verdict(r <= 0.5)}`]);
      }
    }
  }
  for (const [tb, name] of tbs) {
    const tWall = median(col(tb, 'launcher', 'wall'));
    for (const [label, w] of meds('match', 'launcher', 'wall')) results.push([`issue 12 target: ${label}, launcher visible before ${name}`, `${ms(w)} vs ${ms(tWall)}: ${verdict(w < tWall)}`]);
  }
  // The trace summary: extra rounds, traced, of every scenario but the scroll rule.
  const traced = scenarios.filter(([, kind]) => kind !== 'scroll');
  const tr = traced.map(() => []);
  const te = traced.map(() => []); // per page and run: busy time of the other threads, by process
  for (let i = 0; i < traces; i++) for (const [n, [, kind, path, e]] of traced.entries()) {
    const t = (await once(kind, path, e, true)).trace || { self: {}, every: {} };
    tr[n].push(t.self);
    te[n].push(t.every);
  }
  if (traces > 0 && traced.length) {
    const short = traced.map(([label, kind]) => (kind === 'typebot' ? 'Typebot' : kind === 'typebot-msg' ? 'Typebot+welcome' : kind) + (label.includes(' [') ? label.slice(label.indexOf(' [')) : ''));
    const names = [...new Set(tr.flatMap((runs) => runs.flatMap((r) => Object.keys(r))))];
    // Medians per page of [wall, CPU] ms; `total` sums every name of a run first.
    const med2 = (runs, of) => [0, 1].map((j) => median(runs.map((r) => of(r)[j])));
    const med = names.map((name) => tr.map((runs) => med2(runs, (r) => r[name] || [0, 0])));
    const total = tr.map((runs) => med2(runs, (r) => Object.values(r).reduce((a, b) => [a[0] + b[0], a[1] + b[1]], [0, 0])));
    const order = Math.max(0, traced.map(([, kind]) => kind).indexOf('match'));
    const rows = names.map((name, i) => [name, med[i]]).filter(([, v]) => v.some((x) => x[0] >= 1))
      .sort((a, b) => b[1][order][0] - a[1][order][0]);
    const line = (v) => v.map((x, j) => `${short[j]} ${x[0].toFixed(1)}/${x[1].toFixed(1)}`).join(', ');
    results.push([`trace summary (${traces} extra traced run(s) per page, not in the medians above): main-thread self time by trace event name, loader start -> launcher visible (match, Typebot) / targeting done (no-match) / script done (blank)`, 'wall/CPU ms (CPU: thread time); names above 1 ms on any page']);
    results.push(['trace: all events (main-thread busy time in the trace)', line(total)]);
    for (const [name, v] of rows) results.push([`trace: ${name}`, line(v)]);
    // The other threads, and every thread together (the main thread's busy time + the others').
    const sum = (r) => Object.values(r).reduce((a, b) => [a[0] + b[0], a[1] + b[1]], [0, 0]);
    results.push(['trace: every thread of every process (busy time of each thread, added up)', line(tr.map((runs, n) => med2(runs.map((r, i) => [r, te[n][i]]), ([r, o]) => { const a = sum(r), b = sum(o); return [a[0] + b[0], a[1] + b[1]]; })))]);
    for (const k of ['page renderer, other threads', 'browser process', 'GPU process']) results.push([`trace: ${k}`, line(te.map((runs) => med2(runs, (o) => o[k] || [0, 0])))]);
  }
  results.push(['runs per scenario (median; fresh context = cold HTTP cache)', String(runs)]);
  results.push(['network (Chromium emulation: latency ms, kbit/s)', netOpt || 'none (localhost)']);
} finally {
  await browser.close();
  await servers.terminate();
}
console.log(JSON.stringify(results));
process.exit(0);
