// The no-slot fallback of a rules-routed meeting card in real Chromium against the REAL worker,
// which tests/e2e/tests/routing.rs seeds (site `acme` allowing the worker's own origin, the demo
// site built; a dialogue on `/pricing*` asks the region, the email, then offers a meeting whose
// rule sends answer "dach" to queue `dach`, else `sales`; dach's only agent has no free time in
// their horizon, sales' has plenty):
//   node tests/browser/no-slot-widget.mjs --endpoint http://127.0.0.1:8787
// The visitor answers DACH and leaves an email: no time is offered (the dach queue's), the
// preferred-times form is shown; the visitor sends it, the request carries the answers and lead
// fields `/book` carries, the worker stores it (201), and the dialogue goes on by the card's
// on_skip. The queue it reached (the mail, the admin list) is checked by the Rust test.
// Expected texts are read from the English catalogue, never typed here.
import { answerDach, drive, endpointArg, fail, newPage, queueSlots, W, waitFor, en } from './real-worker.mjs';

const endpoint = endpointArg('no-slot-widget.mjs --endpoint URL');
const AFTER = 'AFTER THE MEETING CARD';
const PREFERRED = 'Any weekday morning next month, please';

await drive('no-slot widget', async (browser) => {
  const { ctx, page, errors } = await newPage(browser, { timezoneId: 'UTC' });
  const requests = [];
  // The request itself, seen when it leaves; its status is read from it below.
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname.endsWith('/meetings/requests')) requests.push(r);
  });
  const shadowText = () => page.locator(W).evaluate((h) => h.shadowRoot.textContent || '');
  const call = await answerDach(page, endpoint, 'rules:asked/book', 'no-slot-widget@example.com');
  if ((call.body.slots || []).length !== 0) fail(`the dach queue offered ${call.body.slots.length} times; the test needs none`);
  // The default queue does offer times: only the rule's queue leaves the visitor without one.
  const sales = await queueSlots(page, endpoint, 'sales');
  if (!sales.length) fail('the sales queue must offer times');
  const area = page.locator(`${W} textarea`);
  await area.waitFor();
  if (!(await shadowText()).includes(en['slots.none'])) fail('the no-slot state is not said');
  if ((await page.locator(`${W} .time`).count()) !== 0) fail('times are shown');
  await area.fill(PREFERRED);
  await page.locator(`${W} button[type=submit]`).click();
  await waitFor(async () => (await shadowText()).includes(AFTER), 'the card after the meeting (on_skip)');
  const text = await shadowText();
  if (!text.includes(PREFERRED) || !text.includes(en['request.sent'])) fail(`the request was not echoed and confirmed: ${text.slice(-300)}`);
  if (text.indexOf(en['request.sent']) > text.indexOf(AFTER)) fail('the confirmation comes after the next card');
  if (requests.length !== 1) fail(`${requests.length} POST meetings/requests, expected one`);
  const resp = await requests[0].response();
  if (!resp) fail('POST meetings/requests got no answer');
  const r = { status: resp.status(), body: JSON.parse(requests[0].postData() || '{}') };
  if (r.status !== 201) fail(`meetings/requests answered ${r.status}`);
  if (r.body.route !== 'rules:asked/book' || r.body.reason !== 'no_slots' || r.body.preferred !== PREFERRED) fail(`the request body: ${JSON.stringify(r.body)}`);
  const region = (r.body.answers || {}).region;
  if (region !== 'DACH' && region !== 'dach') fail(`the request carries no answers.region: ${JSON.stringify(r.body)}`);
  if ((r.body.lead || {}).email !== 'no-slot-widget@example.com') fail(`the request carries no lead.email: ${JSON.stringify(r.body)}`);
  if (errors.length) fail(`page errors: ${errors.join('; ')}`);
  console.log(`ok   no times for dach (sales offers ${sales.length}); the request ${JSON.stringify(r.body.answers)} was stored (201); the dialogue went on`);
  await ctx.close();
});
