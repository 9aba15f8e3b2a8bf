// Capture-card validation patterns in the widget, registered into tests/browser/run.mjs's list.
// The chat module has no regex engine: it asks the host (the glue's `pattern`, the browser's own
// `RegExp`) whether the whole answer matches. Site `patterned` (fixtures/stub-sites.json, the second
// stub API, in both modes): a plain pattern, one with a leading `(?i)` (the `i` flag), one only the
// lenient (non-Unicode) mode builds (`\#`), one with non-ASCII letters in a class. A refused
// answer re-prompts with the card's error and sends nothing; an accepted one moves on. The patterns' own cases against regex-lite: engine/web/tests/browser_text.rs.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export function patternTests(h) {
  const { test, newPage, q, shadow, waitFor, assert, sideStub, endpoint, root } = h;
  const en = JSON.parse(readFileSync(join(root, 'engine/core/i18n/en.json'), 'utf8'));

  test('capture patterns: refused answers re-prompt with the card error, (?i), \\# and non-ASCII classes work, accepted answers move on', async () => {
    const api = await sideStub();
    const r = await fetch(api + '/_stub/reset', { method: 'POST' });
    assert(r.ok, 'stub reset ' + r.status);
    const { ctx, page } = await newPage();
    const leads = [];
    page.on('request', (x) => { if (x.url().startsWith(api) && x.url().endsWith('/leads')) leads.push(x.postData() || ''); });
    await page.goto(q('/book', `&site=patterned&api=${encodeURIComponent(api)}`));
    await shadow(page, '.launcher').click();
    const log = () => shadow(page, '.log').textContent();
    const box = shadow(page, '.composer input');
    const err = shadow(page, '.err');
    // Answers a card; `bad` is refused with `error` first (the card stays, aria-invalid set).
    async function card(question, bad, error, good) {
      await waitFor(async () => (await log()).includes(question), 'the card ' + question);
      for (const b of bad) {
        await box.fill(b);
        await box.press('Enter');
        await waitFor(async () => (await err.textContent()) === error, `the re-prompt for ${JSON.stringify(b)}`);
        assert((await box.getAttribute('aria-invalid')) === 'true', 'aria-invalid for ' + JSON.stringify(b));
      }
      await box.fill(good);
      await box.press('Enter');
      await waitFor(async () => (await log()).includes(good), 'the accepted answer ' + JSON.stringify(good));
    }
    // A leading U+FEFF is part of the answer (the glue decodes it, as regex-lite sees it): refused.
    await card('Your postcode?', ['12', '1234 ab', 'x1234 AB', '\uFEFF1234 AB'], 'Like 1234 AB', '1234 AB');
    assert(leads.every((l) => !l.includes('1234 ab') && !l.includes('"12"')), 'no refused answer sent: ' + leads.join(' | '));
    await card('Your order number?', ['PO-12', 'po-1234'], 'Like PO-123', 'po-123');
    await card('Your ticket?', ['42', '#4'], 'Like #42', '#42');
    await card('Your city?', ['Zürich 2', 'Zürich€'], 'Letters only', 'Zürich');
    // A name needs a letter: without Unicode tables in the module, non-ASCII text is decided by
    // the browser's \p{Alphabetic} through the same host matcher.
    await card('Your name?', ['123', '😀', '١٢٣'], en['capture.name'], '李小龙');
    await waitFor(async () => (await log()).includes('PATTERNS DONE'), 'the end card');
    const text = await log();
    for (const refused of ['x1234 AB', 'PO-12', 'po-1234', 'Zürich 2', 'Zürich€']) assert(!text.includes(refused), 'a refused answer is not in the log: ' + refused);
    await ctx.close();
  });

  test('chat module glue: init twice is one instance; a flow the module refuses throws its message, then a good one mounts', async () => {
    const file = readdirSync(join(root, 'dist/widget')).find((f) => /^chat\.[0-9a-f]{8}\.js$/.test(f));
    assert(file, 'the chat module in dist/widget');
    const { ctx, page } = await newPage();
    await page.setContent('<!doctype html><html lang="en"><body><p>No loader here.</p></body></html>');
    // The bundle read here (an about:blank page has no origin the site allows).
    // The bundle has what targeting reads of each dialogue; the whole version comes by its hash.
    const bundle = await (await fetch(`${endpoint}/v1/sites/acme/bundle`)).json();
    const good = await (await fetch(`${endpoint}/v1/sites/acme/flows/${bundle.dialogues[0].hash}`)).json();
    assert(good.flow, 'a published version with its compiled flow');
    const r = await page.evaluate(async ({ base, api, good }) => {
      const m = await import(`${base}.js`);
      const a = m.default({ module_or_path: `${base}.wasm` });
      const b = m.default({ module_or_path: `${base}.wasm` });
      await a;
      const store = { get() {}, set() {}, del() {} };
      const mount = (entry) => m.mount({ store, api, site: 'acme', entry, config: {}, track() {}, emit() {}, queueLead() {} });
      const errors = [];
      for (const flow of ['garbage', {}, [1, 2]]) {
        try { await mount({ id: 'x', hash: 'x', flow }); errors.push('no error'); } catch (e) { errors.push(e instanceof Error ? e.message : 'not an Error: ' + e); }
      }
      let mismatch;
      try { await mount({ ...good, hash: 'not-its-hash' }); } catch (e) { mismatch = e.message; }
      const chat = await mount(good);
      return { same: a === b, errors, mismatch, status: chat.status(), widgets: document.querySelectorAll('#dynchat-widget').length };
    }, { base: `${endpoint}/widget/${file.slice(0, -3)}`, api: endpoint, good });
    assert(r.same, 'a second init gives the first one\'s instance');
    assert(r.errors.length === 3 && r.errors.every((e) => e.startsWith('unusable flow: ')), 'each refused flow throws its message: ' + JSON.stringify(r.errors));
    assert(r.mismatch === 'flow does not match its version hash', 'a flow under another hash: ' + r.mismatch);
    assert(r.widgets === 1 && typeof r.status === 'string' && r.status.length > 0, 'then a good flow mounts once: ' + JSON.stringify(r));
    await ctx.close();
  });

  test('the loader twice on a page (a hard-coded tag and a tag manager\'s): one widget, one conversation', async () => {
    const { ctx, page } = await newPage();
    const bundles = [];
    page.on('request', (x) => { if (x.url().includes('/bundle')) bundles.push(x.url()); });
    await page.goto(q('/pricing', '&twice=1'));
    await shadow(page, '.launcher').waitFor();
    assert((await page.locator('script[src$="/widget/loader.js"]').count()) === 2, 'the page has the tag twice');
    await shadow(page, '.launcher').click();
    await shadow(page, '.choice').first().waitFor();
    await page.waitForTimeout(300);
    assert((await page.locator('#dynchat-widget').count()) === 1, 'one widget');
    assert(bundles.length === 1, 'one bundle request: ' + bundles.length);
    await ctx.close();
    // A copy without data-site (never started) before the site's tag does not keep the widget away.
    const other = await newPage();
    await other.page.goto(q('/pricing', '&bare=1'));
    await shadow(other.page, '.launcher').waitFor();
    assert((await other.page.locator('#dynchat-widget').count()) === 1, 'one widget after a site-less copy');
    await other.ctx.close();
  });

  test('the composer takes no room while it is empty (the bot typing its first message), and shows with the first prompt', async () => {
    const { ctx, page } = await newPage();
    await page.goto(q('/pricing'));
    await shadow(page, '.launcher').click();
    await shadow(page, '.typing').waitFor();
    const composer = shadow(page, '.composer');
    assert((await composer.evaluate((e) => e.childElementCount)) === 0, 'nothing to answer yet');
    assert(await composer.isHidden(), 'the empty composer is hidden, not a bordered strip');
    await shadow(page, '.choice').first().waitFor();
    assert(await composer.isVisible(), 'the composer shows with the first prompt');
    await ctx.close();
  });
}
