// The widget in an A/B experiment, in real Chromium against the REAL worker, which
// tests/e2e/tests/experiments.rs seeds (site `acme` allowing the worker's own origin, the demo
// site built, docs/examples/experiment.json published for `*/pricing*`):
//   node tests/browser/experiment-widget.mjs --endpoint http://127.0.0.1:8787 [--book]
// Fresh visitors (one browser context each, at most 16) open /site/pricing until both variants
// were seen; for each: the loader asks the worker for the visitor's variant as it shows the
// launcher (the chat module is not fetched before the launcher is clicked), the chat shows that
// variant's first card and question text, and every event sent carries the variant. With --book
// (the dialogue's goal leads to a meeting card on a bookable queue) each visitor also leaves an
// email and books the first time offered: the POST /book carries the variant and is booked (201).
import { argv, drive, endpointArg, fail, newPage, W, waitFor as waitUpTo } from './real-worker.mjs';

const endpoint = endpointArg('experiment-widget.mjs --endpoint URL [--book]');
const bookToo = argv.includes('--book');
const TEXTS = {
  control: { hello: 'Hi! Want a walkthrough of the product?', ask: 'Shall we book a demo?' },
  short: { hello: 'Got 15 minutes this week?', ask: 'Book a 15-minute demo?' },
};
const waitFor = (fn, what, tries = 80) => waitUpTo(fn, what, tries);

await drive('widget experiment', async (browser) => {
  const seen = new Set();
  for (let i = 0; i < 16 && seen.size < 2; i++) {
    const { ctx, page, errors } = await newPage(browser, { timeout: 20000 });
    const events = [];
    const books = [];
    let asked;
    let chatAsked = 0;
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/events')) events.push(...(JSON.parse(r.postData() || '{}').events || []));
      if (r.url().includes('/widget/chat.')) chatAsked++;
    });
    page.on('response', async (r) => {
      if (r.request().method() === 'POST' && r.url().endsWith('/book')) books.push({ status: r.status(), body: JSON.parse(r.request().postData() || '{}') });
    });
    page.on('response', async (r) => {
      if (r.url().includes('/variant?visitor=')) asked = (await r.json().catch(() => ({}))).variant;
    });
    await page.goto(`${endpoint}/site/pricing`, { waitUntil: 'domcontentloaded', timeout: 60000 });
    await page.locator(`${W} .poke-open`).waitFor();
    const variant = await waitFor(() => asked, 'the variant answer');
    const want = TEXTS[variant] || fail(`unknown variant ${variant}`);
    // The launcher first, as for any dialogue: the chat module only on intent.
    await page.waitForTimeout(300);
    if (chatAsked) fail(`${variant}: the chat module was fetched before the visitor showed intent`);
    await page.locator(`${W} .launcher`).click();
    await page.locator(`${W} .choice`, { hasText: 'Yes' }).first().waitFor();
    const panel = (await page.locator(W).evaluate((h) => h.shadowRoot.textContent)) || '';
    for (const t of [want.hello, want.ask]) if (!panel.includes(t)) fail(`${variant}: the chat does not show "${t}"`);
    const other = TEXTS[variant === 'short' ? 'control' : 'short'];
    if (panel.includes(other.hello)) fail(`${variant}: the chat shows the other variant's "${other.hello}"`);
    await page.locator(`${W} .choice`, { hasText: 'Yes' }).first().click();
    await waitFor(() => events.some((e) => e.type === 'engaged'), 'an engaged event sent');
    const kinds = events.map((e) => e.type);
    if (!kinds.includes('triggered')) fail(`${variant}: no triggered event in ${kinds}`);
    let booked = '';
    if (bookToo) {
      const email = page.locator(`${W} input[type=email]`);
      await email.fill(`xp-widget-${i}@example.com`);
      await email.press('Enter');
      await page.locator(`${W} .time`).first().click();
      await waitFor(() => books.length > 0, 'the booking request', 120);
      const b = books[0];
      if (b.status !== 201) fail(`${variant}: booking answered ${b.status}`);
      if (b.body.variant !== variant || b.body.dialogue !== 'demo-ab' || !b.body.session) fail(`${variant}: booking sent ${JSON.stringify(b.body)}`);
      await waitFor(async () => ((await page.locator(W).evaluate((h) => h.shadowRoot.textContent)) || '').includes('Booked with'), 'the booking confirmation', 120);
      booked = `, booked ${b.body.start} with variant ${b.body.variant}`;
    }
    const wrong = events.filter((e) => e.variant !== variant);
    if (wrong.length) fail(`${variant}: events without the variant: ${JSON.stringify(wrong)}`);
    if (errors.length) fail(`page errors: ${errors.join('; ')}`);
    console.log(`ok   visitor ${i + 1}: variant ${variant}, texts shown, events [${kinds.join(', ')}] all carry it${booked}`);
    seen.add(variant);
    await ctx.close();
  }
  if (seen.size < 2) fail(`only ${[...seen]} seen in 16 visitors`);
  console.log('ok   widget runs the variant the worker assigns (both variants seen)');
});
