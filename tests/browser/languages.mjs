// The widget in the visitor's language (issue 16), registered into tests/browser/run.mjs's list:
// a site that lets the page decide (`config.language: "auto"`, fixture site `sprache`) on a page
// with <html lang="de"> speaks German (interface texts from engine/core/i18n/de.json, the
// dialogue's German translation, slot days and times as Intl formats them for `de`), on one with
// lang="ar" Arabic, right to left and mirrored, axe clean; a site fixed to English (`english`)
// ignores the page's language; a booking that cannot reach the server says so from the German
// catalogue (the widget sends a reason code, never the network's text). Expected texts are read from the catalogues and the fixture, never
// typed here; the slot labels are compared with what Intl computes in the page itself.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function languageTests(h) {
  const { test, newPage, q, shadow, waitFor, assert, root, shots, fixtures, sideStub, sideConfig, backend } = h;
  const cat = (l) => JSON.parse(readFileSync(join(root, 'engine/core/i18n', l + '.json'), 'utf8'));
  const fill = (s, k, v) => s.replace(`{${k}}`, v);
  const dialogue = () => fixtures().sprache.dialogues[0];
  const tr = (l) => dialogue().translations[l];
  const catalogueRequests = (requests) => requests.filter((u) => /\/widget\/i18n-/.test(u)).map((u) => u.split('/widget/')[1]);
  const attrs = (page, sel) => page.evaluate((s) => {
    const e = document.querySelector('#dynchat-widget').shadowRoot.querySelector(s);
    return e && { lang: e.getAttribute('lang'), dir: e.getAttribute('dir'), direction: getComputedStyle(e).direction };
  }, sel);

  test('page <html lang="de"> on a site that follows the page: German interface, German dialogue, one catalogue fetched', async () => {
    await backend.reset();
    const de = cat('de');
    const { ctx, page, requests } = await newPage();
    await page.goto(q('/anything', '&site=sprache&lang=de'));
    await shadow(page, '.launcher').waitFor();
    const label = await shadow(page, '.launcher').getAttribute('aria-label');
    assert([de['ui.open_chat'], de['ui.chat_with']].map((s) => fill(s, 'bot', 'Ava')).includes(label), 'launcher label in German: ' + label);
    assert((await shadow(page, '.poke-open').textContent()) === de['ui.welcome'], 'the default welcome in German');
    await shadow(page, '.launcher').click();
    await shadow(page, '.choice').first().waitFor();
    const panel = await attrs(page, '.panel');
    assert(panel.lang === 'de' && panel.dir === 'ltr', 'panel lang/dir: ' + JSON.stringify(panel));
    assert((await shadow(page, 'header p').textContent()) === de['ui.replies_instantly'], 'header subtitle');
    assert((await shadow(page, 'footer').textContent()).includes(de['ui.powered_by']) && (await shadow(page, 'footer a').textContent()) === de['ui.privacy'], 'footer in German');
    assert(await shadow(page, '.end').getAttribute('aria-label') === de['ui.end'] && await shadow(page, '.min').getAttribute('aria-label') === de['ui.minimise'], 'header buttons in German');
    assert(await shadow(page, '.launcher').getAttribute('aria-label') === fill(de['ui.hide_chat'], 'bot', 'Ava'), 'open launcher label in German');
    assert((await shadow(page, '.log').textContent()).includes(tr('de').q.text), 'the question in its German translation');
    const buttons = await shadow(page, '.choice').allTextContents();
    assert(JSON.stringify(buttons) === JSON.stringify(tr('de').q.buttons), 'German buttons: ' + JSON.stringify(buttons));
    assert(await shadow(page, '.choices').getAttribute('aria-label') === de['ui.choose_answer'], 'choices group label');
    await shadow(page, '.choice').first().click();
    await shadow(page, 'input[type=email]').waitFor();
    assert((await shadow(page, '.log').textContent()).includes(tr('de').email.text), 'the capture card in German');
    assert(await shadow(page, 'input[type=email]').getAttribute('aria-label') === de['ui.your_email'], 'input label');
    assert((await shadow(page, '.send').textContent()) === de['ui.send'], 'send button');
    assert((await shadow(page, '.me .sr').textContent()) === de['ui.you'], 'screen-reader prefix of the visitor line');
    await shadow(page, 'input[type=email]').fill('nicht-gueltig');
    await shadow(page, 'input[type=email]').press('Enter');
    await waitFor(async () => (await shadow(page, '.err').textContent()) === de['capture.email'], 'the engine re-prompt from the German catalogue');
    await page.screenshot({ path: join(shots, 'lang-de-1280.png') });
    await page.setViewportSize({ width: 375, height: 740 });
    await page.screenshot({ path: join(shots, 'lang-de-375.png') });
    const fetched = catalogueRequests(requests);
    assert(fetched.length === 1 && /^i18n-de\.[0-9a-f]{8}\.json$/.test(fetched[0]), 'one catalogue, German, content-hashed: ' + fetched);
    const served = await fetch(requests.find((u) => u.includes('/widget/i18n-de.')));
    assert(served.headers.get('cache-control') === 'public, max-age=31536000, immutable', 'the catalogue is immutable: ' + served.headers.get('cache-control'));
    // A conversation resumed on a page in another language keeps its own.
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(q('/anything', '&site=sprache&lang=en'));
    await shadow(page, 'input[type=email]').waitFor();
    assert((await shadow(page, '.send').textContent()) === de['ui.send'] && (await attrs(page, '.panel')).lang === 'de', 'resumed in German on an English page');
    assert((await shadow(page, '.log').textContent()).includes(tr('de').email.text), 'the German transcript redrawn');
    await ctx.close();
  });

  test('German slot picker: days and times as Intl formats them for de in the visitor zone, labels from the catalogue', async () => {
    const de = cat('de');
    const api = await sideStub();
    const starts = ['2027-12-06T08:00:00Z', '2027-12-06T13:30:00Z', '2027-12-07T09:00:00Z'];
    await sideConfig({ slotStarts: starts });
    try {
      const { ctx, page } = await newPage();
      await page.goto(q('/demo', `&site=sprache&lang=de&api=${encodeURIComponent(api)}`));
      await shadow(page, '.launcher').click();
      await shadow(page, '.choice').nth(1).click();
      await shadow(page, '.time').first().waitFor();
      const want = await page.evaluate((s) => {
        const o = { timeZone: 'Europe/Amsterdam' };
        const day = new Intl.DateTimeFormat('de', { ...o, weekday: 'short', day: 'numeric', month: 'short' });
        const time = new Intl.DateTimeFormat('de', { ...o, hour: '2-digit', minute: '2-digit' });
        const en = new Intl.DateTimeFormat('en', { ...o, weekday: 'short', day: 'numeric', month: 'short' });
        return { days: [...new Set(s.map((x) => day.format(new Date(x))))], times: s.slice(0, 2).map((x) => time.format(new Date(x))), en: en.format(new Date(s[0])) };
      }, starts);
      const days = await shadow(page, '.day').allTextContents();
      const times = await shadow(page, '.time').allTextContents();
      assert(JSON.stringify(days) === JSON.stringify(want.days) && want.days[0] !== want.en, 'days as Intl de: ' + JSON.stringify([days, want]));
      assert(JSON.stringify(times) === JSON.stringify(want.times), 'times as Intl de: ' + JSON.stringify([times, want.times]));
      const heads = await shadow(page, '.slots h3').allTextContents();
      assert(heads[0] === de['slots.pick_day'] && heads[1] === fill(de['slots.times_on'], 'day', want.days[0]), 'headings: ' + JSON.stringify(heads));
      assert((await shadow(page, '.zone').textContent()) === fill(de['slots.zone'], 'zone', 'Europe/Amsterdam'), 'zone line');
      assert((await shadow(page, '.link').textContent()) === de['slots.skip'], 'skip button');
      assert((await shadow(page, '.log').textContent()).includes(tr('de').meet.text), 'the meeting card in German');
      await page.screenshot({ path: join(shots, 'lang-de-slots-1280.png') });
      await ctx.close();
    } finally {
      await sideConfig({ slotStarts: null });
    }
  });

  test('German page, the booking request cannot reach the server: the offline message from the German catalogue, no English', async () => {
    const de = cat('de');
    const api = await sideStub();
    await sideConfig({ slotStarts: ['2027-12-06T08:00:00Z', '2027-12-06T13:30:00Z'] });
    try {
      const { ctx, page } = await newPage();
      const aborted = [];
      await page.route('**/book', (r) => { aborted.push(r.request().url()); return r.abort('internetdisconnected'); });
      await page.goto(q('/demo', `&site=sprache&lang=de&api=${encodeURIComponent(api)}`));
      await shadow(page, '.launcher').click();
      await shadow(page, '.choice').nth(1).click();
      await shadow(page, '.time').first().click();
      const said = async () => shadow(page, ':is(.err, .msg.bot)').allTextContents();
      await waitFor(async () => (await said()).includes(de['reprompt.booking_offline']), 'the offline re-prompt in German');
      assert(aborted.length === 1, 'one booking request, aborted: ' + aborted);
      const all = (await said()).join(' | ');
      assert(!/network error|error \d|unreadable/i.test(all), 'no English text from the network: ' + all);
      await ctx.close();
    } finally {
      await sideConfig({ slotStarts: null });
    }
  });

  test('page <html lang="ar">: the panel is right to left and mirrored, Arabic texts, axe clean', async () => {
    await backend.reset();
    const ar = cat('ar');
    for (const width of [1280, 375]) {
      const { ctx, page, requests } = await newPage({ viewport: { width, height: 800 }, reducedMotion: 'reduce' });
      await page.goto(q('/anything', '&site=sprache&lang=ar'));
      await shadow(page, '.launcher').waitFor();
      const launcher = await shadow(page, '.launcher').boundingBox();
      const label = await shadow(page, '.launcher').getAttribute('aria-label');
      assert([ar['ui.open_chat'], ar['ui.chat_with']].map((s) => fill(s, 'bot', 'Ava')).includes(label), 'launcher label in Arabic: ' + label);
      await shadow(page, '.launcher').click();
      await shadow(page, '.choice').first().waitFor();
      const panel = await attrs(page, '.panel');
      assert(panel.lang === 'ar' && panel.dir === 'rtl' && panel.direction === 'rtl', 'panel lang/dir: ' + JSON.stringify(panel));
      assert((await shadow(page, 'header p').textContent()) === ar['ui.replies_instantly'], 'header subtitle in Arabic');
      assert((await shadow(page, '.log').textContent()).includes(tr('ar').q.text), 'the question in its Arabic translation');
      await shadow(page, '.choice').first().click();
      await shadow(page, 'input[type=email]').waitFor();
      await shadow(page, 'input[type=email]').fill('x');
      await shadow(page, 'input[type=email]').press('Enter');
      await waitFor(async () => (await shadow(page, '.err').textContent()) === ar['capture.email'], 'the re-prompt in Arabic');
      // Mirrored: the launcher (position "right", i.e. the inline end) sits on the left; in the
      // composer the send button comes first from the right, so it is left of the input; the
      // visitor's line is on the left, the bot's on the right.
      const box = async (s) => shadow(page, s).first().boundingBox();
      const [input, send, bot, me, pbox] = [await box('input'), await box('.send'), await box('.msg.bot'), await box('.msg.me'), await box('.panel')];
      if (width === 1280) {
        assert(launcher.x < 100 && pbox.x < 100, 'launcher and panel on the left: ' + JSON.stringify([launcher, pbox]));
        assert(bot.x + bot.width > me.x + me.width && me.x < bot.x, 'bot line right, visitor line left: ' + JSON.stringify([bot, me]));
      }
      assert(send.x + send.width <= input.x + 1, 'send button on the logical end (left): ' + JSON.stringify([send, input]));
      await page.screenshot({ path: join(shots, `lang-ar-${width}.png`) });
      if (width === 1280) {
        await page.addScriptTag({ path: join(root, 'node_modules/axe-core/axe.min.js') });
        const res = await page.evaluate(() => window.axe.run(document.querySelector('#dynchat-widget'), { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa', 'wcag22aa'] } }));
        const v = res.violations.map((x) => `${x.id}: ${x.nodes.map((n) => n.target.join(' ')).join('; ')}`);
        assert(v.length === 0, v.join(' | '));
        assert(res.passes.length > 10, 'axe ran (' + res.passes.length + ' passes)');
      }
      const fetched = catalogueRequests(requests);
      assert(fetched.length === 1 && fetched[0].startsWith('i18n-ar.'), 'the Arabic catalogue only: ' + fetched);
      await ctx.close();
    }
  });

  test('a site fixed to English ignores the page language: English texts, no catalogue fetched', async () => {
    await backend.reset();
    const en = cat('en');
    const { ctx, page, requests } = await newPage();
    await page.goto(q('/anything', '&site=english&lang=de'));
    await shadow(page, '.launcher').click();
    await shadow(page, '.choice').first().waitFor();
    const panel = await attrs(page, '.panel');
    assert(panel.lang === 'en' && panel.dir === 'ltr', 'panel lang/dir: ' + JSON.stringify(panel));
    assert((await shadow(page, 'header p').textContent()) === en['ui.replies_instantly'], 'English subtitle');
    assert((await shadow(page, '.log').textContent()).includes(dialogue().cards[0].text), 'the English question');
    assert(!(await shadow(page, '.log').textContent()).includes(tr('de').q.text), 'not the German one');
    assert(catalogueRequests(requests).length === 0, 'no catalogue fetched: ' + catalogueRequests(requests));
    await ctx.close();
  });
}
