// The console's experiment table in real Chromium against the REAL worker, which
// tests/e2e/tests/experiments.rs seeds (site `acme`, the console accounts, docs/examples/experiment.json
// published, visitors sent through the public API):
//   node tests/browser/console/experiments.mjs --endpoint http://127.0.0.1:8787 --expect '{"control":600,"short":600}' --winner short
// Signs in as the admin, opens Reports, checks each variant's conversations and the verdict, runs
// axe on the section and saves target/screenshots/console-experiments-1280.png. Exits non-zero on failure.
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const root = new URL('../../../', import.meta.url).pathname;
const argv = process.argv.slice(2);
const opt = (n) => { const i = argv.indexOf(n); return i >= 0 ? argv[i + 1] : undefined; };
const endpoint = (opt('--endpoint') || '').replace(/\/$/, '');
const expect = JSON.parse(opt('--expect') || '{}');
const winner = opt('--winner') || '';
if (!endpoint) { console.error('usage: experiments.mjs --endpoint URL --expect JSON [--winner id]'); process.exit(2); }
const shots = join(root, 'target/screenshots');
mkdirSync(shots, { recursive: true });
const AXE = readFileSync(join(root, 'node_modules/axe-core/axe.min.js'), 'utf8');
const fail = (m) => { throw new Error(m); };

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let code = 0;
try {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  page.setDefaultTimeout(30000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${endpoint}/console/#/signin`, { waitUntil: 'domcontentloaded', timeout: 60000 });
  await page.locator('#email').waitFor();
  await page.fill('#email', 'admin@northwind.example');
  await page.fill('#password', 'demo-admin-pass');
  await page.click('button[type=submit]');
  await page.locator('.side').waitFor();
  await page.evaluate(() => { location.hash = '#/reports'; });
  await page.locator('#experiments table[data-experiment="demo-ab"]').waitFor();
  const rows = await page.$$eval('#experiments tr[data-variant]', (trs) => trs.map((tr) => ({
    id: tr.getAttribute('data-variant'),
    cells: [...tr.children].map((c) => c.textContent.trim()),
  })));
  for (const [id, n] of Object.entries(expect)) {
    const r = rows.find((x) => x.id === id) || fail(`no row for variant ${id}: ${JSON.stringify(rows)}`);
    if (r.cells[2] !== String(n)) fail(`variant ${id}: ${r.cells[2]} conversations shown, ${n} sent`);
  }
  if (rows[0].cells[7] !== 'control') fail(`the first row is the control: ${JSON.stringify(rows[0])}`);
  if (winner) {
    const w = rows.find((x) => x.id === winner);
    const verdict = w.cells[8];
    if (!verdict.startsWith(`${winner} converts better, `)) fail(`verdict of ${winner}: ${verdict}`);
    if (!/ to /.test(w.cells[7])) fail(`interval of ${winner}: ${w.cells[7]}`);
    console.log(`verdict shown: ${verdict}; interval ${w.cells[7]}`);
  }
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('Runtime.evaluate', { expression: AXE });
  await cdp.detach();
  const v = await page.evaluate(async () => (await window.axe.run('#experiments', { resultTypes: ['violations'] })).violations.map((x) => `${x.id}: ${x.nodes.length}`));
  if (v.length) fail(`axe on the experiments section: ${v.join(', ')}`);
  const section = page.locator('#experiments');
  await section.scrollIntoViewIfNeeded();
  await section.screenshot({ path: join(shots, 'console-experiments-1280.png') });
  await page.screenshot({ path: join(shots, 'console-reports-experiments-1280.png'), fullPage: true });
  if (errors.length) fail(`page errors: ${errors.join('; ')}`);
  console.log('ok   console experiments table (target/screenshots/console-experiments-1280.png)');
} catch (e) {
  console.log(`FAIL console experiments table: ${e.message}`);
  code = 1;
} finally {
  await browser.close();
}
process.exit(code);
