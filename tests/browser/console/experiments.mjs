// The console's experiment table in real Chromium against the REAL worker, which
// tests/e2e/tests/experiments.rs seeds (site `acme`, the console accounts, docs/examples/experiment.json
// published, visitors sent through the public API, some booking meetings):
//   node tests/browser/console/experiments.mjs --endpoint http://127.0.0.1:8787 \
//     --expect '{"control":{"conversations":600,"meetings":3},"short":{"conversations":600,"meetings":5}}' --winner short --end short
// Signs in as the admin, opens Reports, checks each variant's conversations and meetings and the
// verdict, runs axe on the section at 1280 and 375 px and saves
// target/screenshots/console-experiments-{1280,375}.png; with --end, ends the experiment through
// the "Publish <variant> as the new version" button (the confirmation first declined, then
// accepted) and checks the table then shows the ended experiment. Exits non-zero on failure.
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const root = new URL('../../../', import.meta.url).pathname;
const argv = process.argv.slice(2);
const opt = (n) => { const i = argv.indexOf(n); return i >= 0 ? argv[i + 1] : undefined; };
const endpoint = (opt('--endpoint') || '').replace(/\/$/, '');
const expect = JSON.parse(opt('--expect') || '{}');
const winner = opt('--winner') || '';
const end = opt('--end') || '';
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
    const want = typeof n === 'object' ? n : { conversations: n };
    if (r.cells[2] !== String(want.conversations)) fail(`variant ${id}: ${r.cells[2]} conversations shown, ${want.conversations} sent`);
    if (want.meetings !== undefined && r.cells[6] !== String(want.meetings)) fail(`variant ${id}: ${r.cells[6]} meetings shown, ${want.meetings} booked`);
  }
  if (rows[0].cells[7] !== 'control') fail(`the first row is the control: ${JSON.stringify(rows[0])}`);
  if (winner) {
    const w = rows.find((x) => x.id === winner);
    const verdict = w.cells[8];
    if (!verdict.startsWith(`${winner} converts better, `)) fail(`verdict of ${winner}: ${verdict}`);
    if (!/ to /.test(w.cells[7])) fail(`interval of ${winner}: ${w.cells[7]}`);
    const said = (await page.locator('#experiments .xp-verdict').first().textContent()).trim();
    if (said !== `${winner} vs ${rows[0].id}: ${verdict}`) fail(`verdict above the table: "${said}"`);
    console.log(`verdict shown: ${verdict}; interval ${w.cells[7]}`);
  }
  const axe = async (what) => {
    if (!(await page.evaluate(() => !!window.axe))) {
      const cdp = await ctx.newCDPSession(page);
      await cdp.send('Runtime.evaluate', { expression: AXE });
      await cdp.detach();
    }
    const v = await page.evaluate(async () => (await window.axe.run('#experiments', { resultTypes: ['violations'] })).violations.map((x) => `${x.id}: ${x.nodes.length}`));
    if (v.length) fail(`axe on the experiments section (${what}): ${v.join(', ')}`);
  };
  const section = page.locator('#experiments');
  for (const width of [1280, 375]) {
    await page.setViewportSize({ width, height: 800 });
    await page.waitForTimeout(200);
    await axe(`${width} px`);
    await section.scrollIntoViewIfNeeded();
    await section.screenshot({ path: join(shots, `console-experiments-${width}.png`) });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: join(shots, 'console-reports-experiments-1280.png'), fullPage: true });
  if (end) {
    // Ending: the button asks first; "Keep the experiment running" publishes nothing.
    const publish = page.locator(`#experiments button[data-act="xp-end:demo-ab|${end}"]`);
    const label = (await publish.textContent()).trim();
    if (label !== `Publish ${end} as the new version`) fail(`end button reads "${label}"`);
    await publish.click();
    await page.locator('#xp-confirm').waitFor();
    if (await page.evaluate(() => document.activeElement && document.activeElement.id) !== 'xp-confirm') fail('the confirmation does not take the focus');
    const ask = (await page.locator('#xp-confirm-text').textContent()).trim();
    if (!ask.includes(`publish ${end} as the new version of demo-ab`)) fail(`confirmation reads "${ask}"`);
    await axe('confirmation open');
    await page.locator('#experiments button[data-act^="xp-end-no:"]').click();
    await page.locator('#xp-confirm').waitFor({ state: 'detached' });
    if (!(await page.locator('#experiments h3').first().textContent()).includes('experiment demo-offer-2026')) fail('declining ended the experiment');
    await publish.click();
    await page.locator('#xp-confirm').click();
    await page.locator('#experiments h3', { hasText: 'demo-ab: ended experiment' }).waitFor();
    const note = (await page.locator('.notice.ok').textContent()).trim();
    if (!note.includes(`${end} is published as the new version of demo-ab`)) fail(`notice after ending: "${note}"`);
    if (await page.locator('#experiments button[data-act^="xp-end:"]').count()) fail('an ended experiment still offers to end it');
    console.log(`ended through the console: ${note}`);
  }
  if (errors.length) fail(`page errors: ${errors.join('; ')}`);
  console.log('ok   console experiments table (target/screenshots/console-experiments-1280.png)');
} catch (e) {
  console.log(`FAIL console experiments table: ${e.message}`);
  code = 1;
} finally {
  await browser.close();
}
process.exit(code);
