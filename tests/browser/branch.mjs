// Branch cards decided by the targeting module (issue 12), registered into tests/browser/run.mjs's
// list. The chat module links no audience code: it hands each branch rule (its compiled audience
// in wire form) and the conversation's facts to the page's targeting module (`judge`) through
// chat.js. Site `branchy` (fixtures/sites.json): "500+" (value 1000) takes the first rule
// (greater_than 100), "1-49" (value 25) the second (matches 2*), nothing the `otherwise` card.
// A conversation that resumes loads the targeting module with the chat module; when the
// targeting module cannot be had, a rule is not decided (false: `otherwise`), said once.
export function branchTests(h) {
  const { test, newPage, q, shadow, waitFor, assert, backend } = h;
  const logText = (page) => shadow(page, '.log').textContent();
  const PATHS = ['BRANCH: large team', 'BRANCH: small team', 'BRANCH: otherwise'];
  const UNDECIDED = 'a branch rule could not be decided';
  // The targeting module is its wasm alone (its glue is in the loader).
  const targetingFiles = (urls) => urls.filter((u) => /\/widget\/targeting\.[0-9a-f]{8}\.wasm$/.test(u));
  async function start() {
    const o = await newPage();
    o.warnings = [];
    o.page.on('console', (m) => { if (m.type() === 'warning') o.warnings.push(m.text()); });
    await o.page.goto(q('/team', '&site=branchy'));
    await shadow(o.page, '.launcher').click();
    await shadow(o.page, '.choice').first().waitFor();
    return o;
  }
  // Picks a team size; the log then shows exactly one of the three paths: `want`.
  async function pick(page, label, want) {
    await shadow(page, '.choice').filter({ hasText: label }).first().click();
    await waitFor(async () => (await logText(page)).includes(want), want).catch(async (e) => { throw new Error(e.message + ' LOG: ' + (await logText(page))); });
    const log = await logText(page);
    const shown = PATHS.filter((p) => log.includes(p));
    assert(shown.length === 1, 'one path shown: ' + JSON.stringify(shown));
  }

  test('a branch card is decided by the targeting module: each rule in turn; a resumed conversation loads both modules', async () => {
    await backend.reset();
    for (const [label, want] of [['500+', PATHS[0]], ['1-49', PATHS[1]]]) {
      const { ctx, page, warnings } = await start();
      await pick(page, label, want);
      assert(!warnings.some((w) => w.includes(UNDECIDED)), 'every rule decided: ' + warnings);
      await ctx.close();
    }
    const { ctx, page, requests, warnings } = await start();
    const before = requests.length;
    await page.reload();
    await shadow(page, '.choice').first().waitFor();
    const loaded = targetingFiles(requests.slice(before));
    assert(loaded.length === 1, 'the resumed conversation loaded the targeting module too: ' + loaded);
    await pick(page, '500+', PATHS[0]);
    assert(!warnings.some((w) => w.includes(UNDECIDED)), 'decided after resuming: ' + warnings);
    await ctx.close();
  });

  test('a resumed conversation without the targeting module cannot decide a branch: otherwise, said once on the console', async () => {
    await backend.reset();
    const { ctx, page, warnings } = await start();
    await page.route(/\/widget\/targeting\./, (r) => r.abort());
    await page.reload();
    await shadow(page, '.choice').first().waitFor();
    await pick(page, '500+', PATHS[2]);
    const said = warnings.filter((w) => w.includes(UNDECIDED));
    assert(said.length === 1, 'said once (two rules undecided): ' + JSON.stringify(warnings));
    await ctx.close();
  });
}
