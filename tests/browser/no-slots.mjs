// The no-slot fallback and the video link in the widget (issue 15), registered into
// tests/browser/run.mjs's list. These run against the second stub API (fixtures/stub-sites.json,
// site `noslot`) in both modes: it offers no slots on demand (`noSlots`), answers
// POST meetings/requests as docs/api.md describes (stored once per Idempotency-Key, 400 naming the
// field) or fails it (`failRequests`), and puts a `video` link in /book's answer (`video`). The
// worker's side of the request (storage, mail) is covered by tests/e2e/tests/meeting_requests.rs.
// Expected texts are read from the English catalogue, never typed here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function noSlotTests(h) {
  const { test, newPage, q, shadow, waitFor, assert, root, shots, sideStub, sideConfig, mail } = h;
  const en = JSON.parse(readFileSync(join(root, 'engine/core/i18n/en.json'), 'utf8'));
  const AFTER = 'AFTER THE MEETING CARD';
  const fresh = async (cfg) => {
    const api = await sideStub();
    const r = await fetch(api + '/_stub/reset', { method: 'POST' });
    assert(r.ok, 'stub reset ' + r.status);
    await sideConfig(cfg);
    return api;
  };
  const state = async (api) => (await fetch(api + '/_stub/state')).json();
  const logText = (page) => shadow(page, '.log').textContent();
  async function start(api, who) {
    const { ctx, page } = await newPage();
    const posts = [];
    page.on('request', (r) => { if (r.url().startsWith(api) && r.url().endsWith('/meetings/requests')) posts.push({ key: r.headers()['idempotency-key'], body: JSON.parse(r.postData() || '{}') }); });
    await page.goto(q('/book', `&site=noslot&api=${encodeURIComponent(api)}`));
    await shadow(page, '.launcher').click();
    await shadow(page, 'input[type=email]').waitFor();
    const email = mail(who, 'example.com');
    await shadow(page, 'input[type=email]').fill(email);
    await shadow(page, 'input[type=email]').press('Enter');
    return { ctx, page, posts, email };
  }

  test('no slot: the visitor leaves preferred times (form axe clean), the request is stored once, the dialogue goes on by on_skip', async () => {
    const api = await fresh({ noSlots: true, failRequests: false, video: null });
    const { ctx, page, posts, email } = await start(api, 'noslot');
    const area = shadow(page, 'textarea');
    await area.waitFor();
    assert((await shadow(page, '.state').textContent()).includes(en['slots.none']), 'the no-slot state is said');
    assert(await area.evaluate((e) => e.labels.length === 1 && e.labels[0].textContent), 'the textarea has its label');
    assert((await area.evaluate((e) => e.labels[0].textContent)) === en['request.label'], 'label text from the catalogue');
    assert((await area.getAttribute('maxlength')) === '1000', 'maxlength 1000');
    assert(await area.evaluate((e) => e.getRootNode().activeElement === e), 'focus on the textarea');
    await page.addScriptTag({ path: join(root, 'node_modules/axe-core/axe.min.js') });
    const res = await page.evaluate(() => window.axe.run(document.querySelector('#dynchat-widget'), { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa', 'wcag22aa'] } }));
    const bad = res.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    assert(bad.length === 0, 'axe violations on the form: ' + bad.join('; '));
    assert(res.passes.length > 10, 'axe ran (' + res.passes.length + ' passes)');
    await page.screenshot({ path: join(shots, 'no-slots-form-1280.png') });
    // An empty send is refused in place, with a message tied to the field.
    await shadow(page, 'button[type=submit]').click();
    await waitFor(async () => (await shadow(page, '.err').textContent()) === en['request.empty'], 'the empty-text message');
    assert((await area.getAttribute('aria-invalid')) === 'true' && posts.length === 0, 'nothing sent for an empty text');
    const preferred = 'Tuesday or Thursday mornings, after 9:30 please';
    await area.fill(preferred);
    await shadow(page, 'button[type=submit]').click();
    await waitFor(async () => (await logText(page)).includes(AFTER), 'the card after the meeting (on_skip)');
    const log = await logText(page);
    assert(log.includes(preferred) && log.includes(en['request.sent']), 'the text echoed and confirmed: ' + log.slice(-300));
    assert(log.indexOf(en['request.sent']) < log.indexOf(AFTER), 'confirmation before the next card');
    const st = await state(api);
    assert(st.requests.length === 1, 'one request stored: ' + JSON.stringify(st.requests));
    const r = st.requests[0];
    assert(r.email === email && r.preferred === preferred && r.reason === 'no_slots' && r.route === 'queue:sales' && r.tz === 'Europe/Amsterdam' && r.dialogue === 'noslot-meeting' && r.session, 'the request as sent: ' + JSON.stringify(r));
    assert(posts.length === 1 && posts[0].key === `req-${r.session}-meet`, 'one POST, keyed by the session and the card: ' + JSON.stringify(posts.map((p) => p.key)));
    // The same key again (a retry) is stored once.
    const again = await fetch(api + '/v1/sites/noslot/meetings/requests', { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': posts[0].key }, body: JSON.stringify(posts[0].body) });
    assert(again.status === 200 && (await state(api)).requests.length === 1, 'a retry stored once: ' + again.status);
    await ctx.close();
  });

  test('none of the offered times fit: "None of these times work" opens the form; a failed send says so and the dialogue still goes on', async () => {
    const api = await fresh({ noSlots: false, failRequests: true, video: null });
    const { ctx, page, posts } = await start(api, 'nonefit');
    await shadow(page, '.time').first().waitFor();
    await shadow(page, '.link').filter({ hasText: en['request.none_fit'] }).click();
    await shadow(page, 'textarea').fill('Any Friday afternoon');
    await shadow(page, 'button[type=submit]').click();
    await waitFor(async () => (await logText(page)).includes(AFTER), 'the card after the meeting (on_skip)');
    const log = await logText(page);
    assert(log.includes(en['request.failed']) && !log.includes(en['request.sent']), 'the failure said: ' + log.slice(-300));
    assert(posts.length === 1 && posts[0].body.reason === 'none_fit' && posts[0].body.preferred === 'Any Friday afternoon', 'posted with reason none_fit: ' + JSON.stringify(posts));
    assert((await state(api)).requests.length === 0 && (await state(api)).meetings.length === 0, 'nothing stored, nothing booked');
    await ctx.close();
  });

  test('a booking whose answer has a video link shows it as a real link after the confirmation', async () => {
    const video = 'https://meet.example/abc-defg-hij?pwd=x(1)';
    const api = await fresh({ noSlots: false, failRequests: false, video });
    const { ctx, page } = await start(api, 'video');
    await shadow(page, '.time').first().click();
    await waitFor(async () => (await logText(page)).includes('See you then.'), 'the card after the booking');
    const a = shadow(page, '.msg.bot a').filter({ hasText: en['meeting.video'] });
    assert((await a.count()) === 1, 'one video link');
    const got = await a.evaluate((e) => ({ href: e.getAttribute('href'), rel: e.getAttribute('rel'), target: e.getAttribute('target'), line: e.parentElement.textContent }));
    assert(got.href === 'https://meet.example/abc-defg-hij?pwd=x%281%29' && got.rel === 'noopener noreferrer' && got.target === '_blank', 'the link: ' + JSON.stringify(got));
    assert(got.line.startsWith('Booked with Alice Agent'), 'on the confirmation line: ' + got.line);
    await page.screenshot({ path: join(shots, 'booked-video-1280.png') });
    await ctx.close();
    // A link that is not https is never shown.
    await sideConfig({ video: 'javascript:alert(1)' });
    const second = await start(api, 'video2');
    await shadow(second.page, '.time').first().click();
    await waitFor(async () => (await logText(second.page)).includes('See you then.'), 'the card after the second booking');
    assert((await shadow(second.page, '.msg.bot a').count()) === 0, 'no link for a non-https video');
    await second.ctx.close();
  });
}
