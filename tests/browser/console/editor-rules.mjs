// Issue 15's editor test (registered by run.mjs, which passes its helpers): a dialogue whose
// meeting card routes by rules is imported as JSON into the editor; the card shows the rules
// read-only (the Routing page's lines) with a pointer to the JSON, and no route kind select or
// queue input that could turn the rules into a queue; after a form edit, publishing keeps the
// rules in the published version (its audience matches no page, and it is unpublished after).

export function editorRulesTests(h) {
  const { test, assert, newPage, signIn, go, raw, apiLogin, endpoint, RUN, ADMIN } = h;

  test('editor: a meeting card routing by rules shows them read-only, no queue input; an edit and publish keep the rules', async () => {
    const dlg = `rules-editor-${RUN}`;
    const route = {
      rules: [{ when: { all: [{ field: 'lead.country', op: 'in_list', value: ['DE', 'AT'] }] }, queue: 'sales' }],
      default: 'sales',
    };
    const dialogue = {
      version: 1, id: dlg, name: 'Rules in the editor',
      audience: { all: [{ field: 'page.path', op: 'is', value: '/never-shown' }] },
      cards: [{ id: 'book', type: 'meeting', text: 'Pick a time', route }],
    };
    const { ctx, page } = await newPage();
    try {
      await signIn(page, ADMIN);
      await go(page, '#/dialogues', '#new-dialogue');
      await page.click('#new-dialogue');
      await page.locator('#json-text').waitFor();
      await page.fill('#json-text', JSON.stringify(dialogue));
      await page.click('button[data-act=import-json]');
      await page.locator('#f-cards-0-route-rules').waitFor();
      const lines = await page.locator('#f-cards-0-route-rules li').allTextContents();
      assert(lines[0] === 'When lead.country is one of "DE", "AT" -> queue sales', 'rule shown: ' + lines[0]);
      assert(lines[1] === 'Otherwise -> queue sales', 'default shown: ' + lines[1]);
      assert(await page.locator('#f-cards-0-route-kind').count() === 0, 'no route kind select for a rules route');
      assert(await page.locator('input#f-cards-0-route').count() === 0, 'no queue input for a rules route');
      assert((await page.textContent('#f-cards-0-route-hint')).includes('Import / export JSON'), 'points to the JSON to edit the rules');
      // A form edit elsewhere on the card, then publish.
      await page.fill('#f-cards-0-text', 'Pick a time, please');
      await page.locator('#diag-status.ok').waitFor();
      await page.click('#publish');
      await page.locator('.notice.ok', { hasText: `Published ${dlg}` }).waitFor();
      await page.locator('#f-cards-0-route-rules').waitFor();
    } finally {
      await ctx.close();
    }
    const s = await apiLogin(ADMIN);
    const list = await raw('GET', '/admin/sites/acme/dialogues', { cookie: s.cookie });
    const live = list.json.versions.filter((v) => v.dialogue === dlg && v.live === 1);
    assert(live.length === 1, 'one live version: ' + JSON.stringify(live));
    const f = await raw('GET', `/v1/sites/acme/flows/${live[0].hash}`, { cookie: s.cookie });
    assert(f.status === 200, `version: ${f.status}`);
    const card = f.json.dialogue.cards[0];
    assert(card.text === 'Pick a time, please', 'the edit published: ' + JSON.stringify(card));
    const got = card.route;
    assert(got.queue === undefined && got.agent === undefined, 'no queue or agent next to the rules: ' + JSON.stringify(got));
    assert(got.default === 'sales' && Array.isArray(got.rules) && got.rules.length === 1, 'rules kept: ' + JSON.stringify(got));
    assert(got.rules[0].queue === 'sales' && JSON.stringify(got.rules[0].when) === JSON.stringify(route.rules[0].when), 'the rule kept: ' + JSON.stringify(got.rules[0]));
    const w = { cookie: s.cookie, headers: { 'x-csrf-token': s.csrf, origin: endpoint } };
    const off = await raw('DELETE', `/admin/sites/acme/dialogues/${dlg}`, w);
    assert(off.status === 200 || off.status === 204, `unpublish: ${off.status}`);
  });
}
