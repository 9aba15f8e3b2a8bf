// The launcher first (core.js `facade()`) where it can go wrong, registered into tests/browser/run.mjs's
// list (stub API or the real worker): `triggered` sent before the chat exists is accepted and shares
// the chat's session; a failed chat load is tried again on the next intent; an `open()` queued before
// the bundle opens the chat; a watched rule firing after the chat mounted draws no second widget; a press
// spanning the chat module's arrival still opens the panel, and so does one made while the chat
// brings an endless animation; a bundle without `launcher` (an older
// cached copy) is asked again past the cache, so the chat is never drawn unstyled.
import { join } from 'node:path';

export function facadeTests(h) {
  const { test, newPage, q, shadow, waitFor, assert, backend, root } = h;
  const W = '#dynchat-widget';
  const chatWasm = /\/widget\/chat\.[0-9a-f]{8}\.wasm$/;
  const widgets = (page) => page.evaluate(() => document.querySelectorAll('#dynchat-widget').length);
  const triggered = async (page) => (await page.evaluate(() => window.__dom.map((e) => e[0]))).filter((n) => n === 'triggered').length;
  const sent = (net) => net.filter((e) => e.method === 'POST' && e.path.endsWith('/events') && e.status);

  test('launcher first: triggered sent before the chat loads is accepted and counted, under the session the chat then uses', async () => {
    await backend.reset();
    const { ctx, page, net } = await newPage();
    await page.goto(q('/pricing'));
    await shadow(page, '.launcher').waitFor();
    // No intent: the events flush (1.5 s) with no chat on the page.
    const first = await waitFor(async () => sent(net).find((e) => JSON.parse(e.body).events.some((x) => x.type === 'triggered')), 'the triggered batch answered');
    assert(first.status === 202, 'the triggered batch accepted, got ' + first.status + ' for ' + first.body);
    // (At least one: a page of an earlier test may still send its own late.)
    await waitFor(async () => (await backend.eventCounts('pricing-qualify')).triggered >= 1, 'triggered counted by the API');
    await shadow(page, '.launcher').click();
    await shadow(page, '.choice').first().click();
    const engaged = await waitFor(async () => sent(net).find((e) => JSON.parse(e.body).events.some((x) => x.type === 'engaged')), 'the engaged batch answered');
    assert(engaged.status === 202, 'engaged accepted, got ' + engaged.status);
    const s1 = JSON.parse(first.body).session, s2 = JSON.parse(engaged.body).session;
    assert(s1 && s1 === s2, `triggered and engaged in one session: ${s1} / ${s2}`);
    await ctx.close();
  });

  test('launcher first: a chat load that failed (network) is tried again on the next intent', async () => {
    const { ctx, page } = await newPage();
    let n = 0;
    await page.route(chatWasm, (route) => (n++ ? route.continue() : route.abort()));
    await page.goto(q('/pricing'));
    await shadow(page, '.launcher').hover();
    await waitFor(async () => n >= 1, 'the chat module asked for');
    await new Promise((r) => setTimeout(r, 500));
    assert(await shadow(page, '.panel').count() === 0, 'no chat after the failed load');
    await shadow(page, '.launcher').click();
    await shadow(page, '.choice').first().waitFor();
    assert(n === 2 && await widgets(page) === 1, `the chat loaded on the second try, one widget: ${n} requests, ${await widgets(page)} widgets`);
    await ctx.close();
  });

  test('launcher first: open() queued before the loader ran opens the chat', async () => {
    const { ctx, page } = await newPage();
    await ctx.addInitScript(() => { window.dynchat = [['open']]; });
    await page.goto(q('/pricing'));
    await shadow(page, '.choice').first().waitFor();
    await page.evaluate(() => window.dynchat.ready);
    assert(await shadow(page, '.launcher').getAttribute('aria-expanded') === 'true', 'the panel is open');
    assert(await widgets(page) === 1 && await triggered(page) === 1, `one widget and one triggered: ${await widgets(page)}, ${await triggered(page)}`);
    await ctx.close();
  });

  test('launcher first: a watched rule firing after open() mounted the chat draws no second widget', async () => {
    const { ctx, page } = await newPage();
    // /guide: a scroll-depth rule (nothing matches before scrolling).
    await page.goto(q('/guide', '&paras=60'));
    await page.evaluate(() => window.dynchat.ready);
    await page.evaluate(() => window.dynchat.open());
    await shadow(page, '.choice').first().waitFor();
    const before = await triggered(page);
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await new Promise((r) => setTimeout(r, 800));
    assert(await widgets(page) === 1, 'one #dynchat-widget, got ' + await widgets(page));
    assert(before === 1 && await triggered(page) === 1, `one triggered, got ${before} then ${await triggered(page)}`);
    assert(await shadow(page, '.launcher').getAttribute('aria-expanded') === 'true', 'the panel stays open');
    await ctx.close();
  });

  test('launcher first: a press held while the chat module arrives opens the panel on release', async () => {
    const { ctx, page } = await newPage();
    await page.route(chatWasm, async (route) => { await new Promise((r) => setTimeout(r, 600)); await route.continue(); });
    await page.goto(q('/pricing'));
    const b = await shadow(page, '.launcher').boundingBox();
    await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2);
    await page.mouse.down();
    // The chat drew its own host meanwhile; the press is still down, so the loader's stays.
    await page.waitForFunction(() => document.querySelectorAll('#dynchat-widget').length === 2);
    await new Promise((r) => setTimeout(r, 100));
    await page.mouse.up();
    await shadow(page, '.choice').first().waitFor({ timeout: 5000 });
    assert(await widgets(page) === 1, 'one widget after the swap');
    await ctx.close();
  });

  test('launcher first: an endless animation in the chat when it takes over does not stop the swap (a click made meanwhile opens the panel)', async () => {
    const { ctx, page } = await newPage();
    // As the chat's host is appended (before the swap), its launcher gets an endless animation.
    await ctx.addInitScript(() => {
      new MutationObserver(() => {
        const w = document.querySelectorAll('#dynchat-widget');
        const l = w.length === 2 && w[1].shadowRoot && w[1].shadowRoot.querySelector('.launcher');
        if (l && !l.getAnimations().length) l.animate([{ opacity: 1 }, { opacity: 0.99 }], { duration: 1000, iterations: Infinity });
      }).observe(document, { childList: true, subtree: true });
    });
    await page.route(chatWasm, async (route) => { await new Promise((r) => setTimeout(r, 500)); await route.continue(); });
    await page.goto(q('/pricing'));
    await shadow(page, '.launcher').click();
    await shadow(page, '.choice').first().waitFor({ timeout: 5000 });
    assert(await widgets(page) === 1, 'one widget after the swap');
    await ctx.close();
  });

  test('launcher first: axe-core WCAG 2.2 AA on the launcher and the welcome bubble before intent (no chat module yet)', async () => {
    const { ctx, page, requests } = await newPage();
    await page.goto(q('/pricing'));
    await shadow(page, '.poke-open').waitFor();
    await page.evaluate(() => window.dynchat.ready);
    await page.addScriptTag({ path: join(root, 'node_modules/axe-core/axe.min.js') });
    const res = await page.evaluate(() => window.axe.run(document.querySelector('#dynchat-widget'), { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa', 'wcag22aa'] } }));
    assert(!requests.some((u) => chatWasm.test(u)), "the loader's launcher was checked, not the chat's");
    const v = res.violations.map((x) => `${x.id}: ${x.nodes.map((n) => n.target.join(' ')).join('; ')}`);
    assert(v.length === 0, v.join(' | '));
    assert(res.passes.length > 5, 'axe ran (' + res.passes.length + ' passes)');
    await ctx.close();
  });

  test('launcher first: a bundle without `launcher` (an older cached copy) is asked again past the cache; the launcher is styled', async () => {
    const { ctx, page } = await newPage();
    const asked = [];
    await page.route(/\/bundle$/, async (route) => {
      asked.push(route.request().url());
      if (asked.length > 1) return route.continue();
      const r = await route.fetch();
      const j = await r.json();
      delete j.launcher;
      await route.fulfill({ response: r, body: JSON.stringify(j) });
    });
    await page.goto(q('/pricing'));
    await shadow(page, '.launcher').waitFor();
    await page.evaluate(() => window.dynchat.ready);
    assert(asked.length === 2, 'the bundle asked again, got ' + asked.length);
    const box = await shadow(page, '.launcher').boundingBox();
    assert(box && Math.round(box.width) === 60, 'the launcher styled (60 px round button), got ' + JSON.stringify(box));
    assert(await page.locator(W).count() === 1, 'one widget');
    await ctx.close();
  });
}
