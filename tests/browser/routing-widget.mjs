// A rules-routed meeting card in real Chromium against the REAL worker, which
// tests/e2e/tests/routing.rs seeds (site `acme` allowing the worker's own origin, the demo site
// built; a dialogue on `/pricing*` asks the region, the email, then offers a meeting whose rule
// sends answer "dach" to queue `dach`, else `sales`; the two queues' agents work different hours):
//   node tests/browser/routing-widget.mjs --endpoint http://127.0.0.1:8787 --video URL
// The visitor answers DACH and leaves an email: the widget's slot request carries the answer and
// the lead fields (what /book will carry), the times it shows are the dach queue's (the worker's
// own `route=queue:dach` list), and the first one is booked (201) in that queue. The dach agent
// has a fixed video link (`settings.video_link`, given as --video): /book's answer carries it and
// the confirmation shows it as a real link (issue 15).
import { answerDach, drive, endpointArg, fail, newPage, queueSlots, W, waitFor, en, opt } from './real-worker.mjs';

const endpoint = endpointArg('routing-widget.mjs --endpoint URL --video URL', ['--video']);
const video = opt('--video');

await drive('routed widget', async (browser) => {
  const { ctx, page, errors } = await newPage(browser, { timezoneId: 'UTC' });
  const books = [];
  page.on('response', async (r) => {
    if (r.request().method() === 'POST' && new URL(r.url()).pathname.endsWith('/book')) {
      books.push({ status: r.status(), body: JSON.parse(r.request().postData() || '{}'), answer: await r.json().catch(() => ({})) });
    }
  });
  const call = await answerDach(page, endpoint, 'rules:routed/book', 'routed-widget@example.com');
  // What the worker offers the dach queue directly: the list the visitor must see.
  const dach = await queueSlots(page, endpoint, 'dach');
  const sales = await queueSlots(page, endpoint, 'sales');
  const starts = (l) => JSON.stringify(l.map((s) => s.start));
  if (!dach.length || starts(dach) === starts(sales)) fail('the two queues must offer different times');
  if (starts(call.body.slots || []) !== starts(dach)) fail(`the widget was sent ${starts(call.body.slots || []).slice(0, 120)}..., not the dach queue's ${starts(dach).slice(0, 120)}...`);
  const q = call.url.searchParams;
  if (q.get('answer.region') !== 'DACH' && q.get('answer.region') !== 'dach') fail(`the slot request carries no answer.region: ${call.url.search}`);
  if (q.get('lead.email') !== 'routed-widget@example.com') fail(`the slot request carries no lead.email: ${call.url.search}`);
  // The first time on screen is the dach queue's first (UTC context: the label's hour is UTC).
  const first = page.locator(`${W} .time`).first();
  const label = (await first.textContent()) || '';
  const hh = new Date(dach[0].start).toISOString().slice(11, 16);
  if (!label.includes(hh)) fail(`the first time shown "${label}" is not the dach queue's first (${hh} UTC)`);
  await first.click();
  await waitFor(() => books.length > 0, 'the booking request');
  const b = books[0];
  if (b.status !== 201) fail(`booking answered ${b.status}: ${JSON.stringify(b.answer)}`);
  if (b.body.start !== new Date(dach[0].start).toISOString()) fail(`booked ${b.body.start}, shown ${dach[0].start}`);
  await waitFor(async () => ((await page.locator(W).evaluate((h) => h.shadowRoot.textContent)) || '').includes('Booked with'), 'the booking confirmation');
  // The agent's video link: in /book's answer, and on the confirmation's line as a real link.
  if (b.answer.video !== video) fail(`/book's answer carries video ${JSON.stringify(b.answer.video)}, not the agent's ${video}`);
  const link = page.locator(`${W} .msg.bot a`).filter({ hasText: en['meeting.video'] });
  await waitFor(async () => (await link.count()) > 0, 'the video link in the confirmation', 40);
  if ((await link.count()) !== 1) fail(`${await link.count()} video links shown, not one`);
  const got = await link.evaluate((e) => ({ href: e.getAttribute('href'), rel: e.getAttribute('rel'), target: e.getAttribute('target'), text: e.textContent, line: e.parentElement.textContent }));
  if (got.href !== video || got.rel !== 'noopener noreferrer' || got.target !== '_blank' || got.text !== en['meeting.video']) fail(`the video link: ${JSON.stringify(got)}`);
  if (!got.line.startsWith(`Booked with ${b.answer.agent} on `)) fail(`the link is not on the confirmation's line: ${got.line}`);
  if (!(await link.isVisible())) fail('the video link is not visible');
  if (errors.length) fail(`page errors: ${errors.join('; ')}`);
  console.log(`ok   the slot request carried ${call.url.search}; ${dach.length} dach times shown; booked ${b.body.start} with ${b.answer.agent}, video link ${got.href} shown`);
  await ctx.close();
});
