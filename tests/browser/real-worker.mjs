// The common head of the single drivers an e2e test runs against the REAL worker
// (experiment-widget.mjs, routing-widget.mjs, no-slot-widget.mjs): the `--endpoint URL` argument
// and the others, the English catalogue, the widget's selector, waiting, headless Chromium at
// /usr/bin/chromium, a fresh page that records page errors, and the run itself (a thrown error
// is one FAIL line and exit code 1; the browser is always closed).
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const argv = process.argv.slice(2);
export const opt = (n) => { const i = argv.indexOf(n); return i >= 0 ? argv[i + 1] : undefined; };
// The worker's URL from --endpoint; with it missing (or another option `required` names), the
// usage line and exit code 2.
export function endpointArg(usage, required = []) {
  const endpoint = (opt('--endpoint') || '').replace(/\/$/, '');
  if (!endpoint || required.some((n) => !opt(n))) { console.error(`usage: ${usage}`); process.exit(2); }
  return endpoint;
}
export const en = JSON.parse(readFileSync(new URL('../../engine/core/i18n/en.json', import.meta.url), 'utf8'));
export const W = '#dynchat-widget';
export const fail = (m) => { throw new Error(m); };
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export async function waitFor(fn, what, tries = 120) {
  for (let i = 0; i < tries; i++) { const v = await fn(); if (v) return v; await sleep(250); }
  throw new Error('timed out waiting for ' + what);
}
// A fresh browser context (one visitor) and its page: 1280x800, `timeout` for every action,
// `timezoneId` if given; `errors` collects the page's uncaught errors.
export async function newPage(browser, { timeout = 30000, timezoneId } = {}) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...(timezoneId ? { timezoneId } : {}) });
  const page = await ctx.newPage();
  page.setDefaultTimeout(timeout);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { ctx, page, errors };
}
// Runs `body(browser)` in headless Chromium, then exits: 0, or 1 after `FAIL <name>: <why>`.
export async function drive(name, body) {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  let code = 0;
  try {
    await body(browser);
  } catch (e) {
    console.log(`FAIL ${name}: ${e.message}`);
    code = 1;
  } finally {
    await browser.close();
  }
  process.exit(code);
}
// The routing drivers' visitor (the dialogue tests/e2e/tests/routing.rs publishes): opens
// /site/pricing, answers DACH, leaves `email`; returns the widget's first slot request of the
// card's `route` ({ url, status, body }), which must have been answered 200.
export async function answerDach(page, endpoint, route, email) {
  const slotCalls = [];
  page.on('response', async (r) => {
    const u = new URL(r.url());
    if (u.pathname.endsWith('/slots') && u.searchParams.get('route') === route) {
      slotCalls.push({ url: u, status: r.status(), body: await r.json().catch(() => ({})) });
    }
  });
  await page.goto(`${endpoint}/site/pricing`, { waitUntil: 'domcontentloaded', timeout: 60000 });
  await page.locator(`${W} .poke-open`).waitFor();
  await page.locator(`${W} .launcher`).click();
  await page.locator(`${W} .choice`, { hasText: 'DACH' }).first().click();
  const input = page.locator(`${W} input[type=email]`);
  await input.fill(email);
  await input.press('Enter');
  const call = await waitFor(() => slotCalls[0], 'the slot request of the rules route');
  if (call.status !== 200) fail(`/slots answered ${call.status}: ${JSON.stringify(call.body)}`);
  return call;
}
// The times the worker offers `queue` directly (14 days, UTC), fetched from the page.
export const queueSlots = (page, endpoint, queue) =>
  page.evaluate(async (u) => (await (await fetch(u)).json()).slots || [], `${endpoint}/v1/sites/acme/slots?route=queue:${queue}&tz=UTC&days=14`);
