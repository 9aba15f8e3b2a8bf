// Drives the custom UI (built by Vite into dist/) in Chromium through the golden `pricing-book`
// answers and checks what it rendered against the golden transcript's bot and visitor lines.
import { createServer } from 'node:http';
import { readFileSync, readdirSync, existsSync, statSync, mkdirSync } from 'node:fs';
import { join, extname } from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const root = process.env.DYNCHAT_ROOT;
if (!root) throw new Error('DYNCHAT_ROOT is not set: run with `cargo xtask npm`');
const dist = new URL('./dist/', import.meta.url).pathname;
assert.ok(readdirSync(join(dist, 'assets')).some((f) => f.endsWith('.wasm')), 'Vite emitted the wasm module');

const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css' };
const server = createServer((req, res) => {
  const path = new URL(req.url, 'http://x').pathname;
  const file = join(dist, path === '/' ? 'index.html' : decodeURIComponent(path));
  if (!file.startsWith(dist) || !existsSync(file) || !statSync(file).isFile()) {
    res.writeHead(404);
    return res.end();
  }
  res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
  res.end(readFileSync(file));
});
const base = await new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(`http://127.0.0.1:${server.address().port}`)));

const golden = readFileSync(join(root, 'engine/core/tests/golden/pricing-book.transcript'), 'utf8');
const want = golden.split('\n').filter((l) => /^(bot|bot \(re-prompt\)|visitor): /.test(l));
const prefix = { bot: 'bot', reprompt: 'bot (re-prompt)', visitor: 'visitor' };

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const problems = [];
let failed = null;
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(15000);
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  await page.goto(`${base}/?now=1799053200000`);
  const click = (name) => page.getByRole('button', { name, exact: true }).click();
  const type = async (text) => {
    await page.getByLabel('Your answer').fill(text);
    await page.getByLabel('Your answer').press('Enter');
  };
  await click('Talk to sales');
  await click('500+');
  await type('not-an-email');
  await page.locator('#log li.reprompt').waitFor();
  await type('ann@acme.com');
  await click('2027-01-05 11:00 UTC');
  await page.locator('#status', { hasText: 'completed, score 50' }).waitFor();
  const got = await page.$$eval('#log li', (lis) => lis.map((li) => [li.className, li.textContent]));
  assert.deepEqual(got.map(([who, text]) => `${prefix[who]}: ${text}`), want);
  assert.deepEqual(await page.evaluate(() => window.__events), ['engaged', 'email', 'goal', 'meeting-booked', 'completed']);
  assert.equal(await page.locator('#controls button').count(), 0, 'nothing left to click');
  mkdirSync(join(root, 'target/screenshots'), { recursive: true });
  await page.screenshot({ path: join(root, 'target/screenshots/engine-custom-ui.png'), fullPage: true });
  assert.deepEqual(problems, []);
  console.log(`ok   custom UI on @dynchat/engine: ${want.length} transcript lines as in pricing-book.transcript, events and status checked`);
} catch (e) {
  failed = e;
} finally {
  await browser.close();
  server.close();
}
if (failed) {
  console.error(`FAIL custom UI on @dynchat/engine: ${failed.message}`);
  for (const p of problems) console.error(`     ${p}`);
  process.exit(1);
}
