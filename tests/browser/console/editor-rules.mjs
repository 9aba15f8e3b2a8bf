// Issue 15's editor tests (registered by run.mjs, which passes its helpers): a meeting card's
// route edited in the form. (1) A dialogue whose meeting card routes by rules, imported as JSON,
// shows them in the form (kind select on rules, the rule's condition row and queue select) and a
// form edit elsewhere on the card publishes with the rules kept. (2) The author switches a
// meeting card from a queue to routing rules in the form, adds "lead.country in DE, AT, CH ->
// dach" and a second rule with the keyboard, moves it, keeps the default, publishes: the
// published route is exactly that JSON; a rule naming a queue the site does not have is refused
// at publish and the refusal shows at that rule's row. Both dialogues' audiences match no page;
// they are unpublished after.
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';

export function editorRulesTests(h) {
  const { test, assert, newPage, signIn, go, raw, apiLogin, axe, shots, endpoint, RUN, ADMIN } = h;
  const never = { all: [{ field: 'page.path', op: 'is', value: '/never-shown' }] };

  // The route of the live version of `dlg` through the admin API.
  async function liveRoute(s, dlg) {
    const list = await raw('GET', '/admin/sites/acme/dialogues', { cookie: s.cookie });
    const mine = list.json.versions.filter((v) => v.dialogue === dlg);
    const live = mine.filter((v) => v.live === 1);
    assert(live.length === 1, 'one live version: ' + JSON.stringify(mine));
    const f = await raw('GET', `/v1/sites/acme/flows/${live[0].hash}`, { cookie: s.cookie });
    assert(f.status === 200, `version: ${f.status}`);
    return { versions: mine.length, card: f.json.dialogue.cards[0] };
  }
  async function unpublish(s, dlg) {
    const w = { cookie: s.cookie, headers: { 'x-csrf-token': s.csrf, origin: endpoint } };
    const off = await raw('DELETE', `/admin/sites/acme/dialogues/${dlg}`, w);
    assert(off.status === 200 || off.status === 204, `unpublish: ${off.status}`);
  }
  async function openWith(page, dialogue) {
    await go(page, '#/dialogues', '#new-dialogue');
    await page.click('#new-dialogue');
    await page.locator('#json-text').waitFor();
    await page.fill('#json-text', JSON.stringify(dialogue));
    await page.click('button[data-act=import-json]');
    await page.locator('#f-cards-0-route-kind').waitFor();
  }

  test('editor: a meeting card routing by rules shows them in the form; an edit elsewhere and publish keep the rules', async () => {
    const dlg = `rules-editor-${RUN}`;
    const route = {
      rules: [{ when: { all: [{ field: 'lead.country', op: 'in_list', value: ['DE', 'AT'] }] }, queue: 'sales' }],
      default: 'sales',
    };
    const dialogue = { version: 1, id: dlg, name: 'Rules in the editor', audience: never, cards: [{ id: 'book', type: 'meeting', text: 'Pick a time', route }] };
    const { ctx, page } = await newPage();
    try {
      await signIn(page, ADMIN);
      await openWith(page, dialogue);
      assert(await page.inputValue('#f-cards-0-route-kind') === 'rules', 'the kind select shows rules');
      assert(await page.inputValue('#f-cards-0-route-rules-0-when-all-0-field') === 'lead.country', 'the rule\'s condition row');
      assert(await page.inputValue('#f-cards-0-route-rules-0-when-all-0-value') === 'DE, AT', 'the list value shown');
      assert(await page.inputValue('#f-cards-0-route-rules-0-queue') === 'sales', 'the rule\'s queue');
      assert(await page.inputValue('#f-cards-0-route-default') === 'sales', 'the default queue');
      assert(await page.locator('#f-cards-0-route-queue').count() === 0, 'no single-queue select for a rules route');
      await page.fill('#f-cards-0-text', 'Pick a time, please');
      await page.locator('#diag-status.ok').waitFor();
      await page.click('#publish');
      await page.locator('.notice.ok', { hasText: `Published ${dlg}` }).waitFor();
    } finally {
      await ctx.close();
    }
    const s = await apiLogin(ADMIN);
    const { card } = await liveRoute(s, dlg);
    assert(card.text === 'Pick a time, please', 'the edit published: ' + JSON.stringify(card));
    assert(isDeepStrictEqual(card.route, route), 'rules kept: ' + JSON.stringify(card.route));
    await unpublish(s, dlg);
  });

  test('editor: switch a meeting card to routing rules in the form, DE/AT/CH -> dach, publish; an unknown queue is refused at its rule row', async () => {
    const s = await apiLogin(ADMIN);
    const w = { cookie: s.cookie, headers: { 'x-csrf-token': s.csrf, origin: endpoint } };
    const made = await raw('PUT', '/admin/sites/acme/queues/dach', { ...w, body: { name: 'DACH', agents: ['jonas-weber'] } });
    assert(made.status === 200, `queue dach: ${made.status} ${JSON.stringify(made.json)}`);
    const dlg = `rules-form-${RUN}`;
    const dialogue = {
      version: 1, id: dlg, name: 'Rules from the form', audience: never,
      cards: [{ id: 'book', type: 'meeting', text: 'Pick a time', route: { queue: 'sales' } }],
    };
    const expected = {
      rules: [
        { when: { all: [{ field: 'lead.country', op: 'in_list', value: ['DE', 'AT', 'CH'] }] }, queue: 'dach' },
        { when: { all: [{ field: 'company.numberOfEmployees', op: 'greater_than', value: 500 }] }, queue: 'sales' },
      ],
      default: 'sales',
    };
    const r = (i, rest) => `#f-cards-0-route-rules-${i}${rest}`;
    const focused = (page) => page.evaluate(() => document.activeElement?.id || '');
    const { ctx, page } = await newPage();
    try {
      await signIn(page, ADMIN);
      await openWith(page, dialogue);
      assert(await page.inputValue('#f-cards-0-route-queue') === 'sales', 'a queue route: the queue select');
      await page.selectOption('#f-cards-0-route-kind', 'rules');
      await page.locator('#f-cards-0-route-default').waitFor();
      assert(await page.inputValue('#f-cards-0-route-default') === 'sales', 'the queue becomes the default');
      // Rule 1 with the keyboard: "+ Routing rule" puts the caret in the new rule's field.
      const addRule = 'button[data-act="add-route-rule:$.cards[0].route"]';
      await page.focus(addRule);
      await page.keyboard.press('Enter');
      await page.locator(r(0, '-when-all-0-field')).waitFor();
      assert(await focused(page) === 'f-cards-0-route-rules-0-when-all-0-field', 'focus in the new rule: ' + await focused(page));
      await page.selectOption(r(0, '-when-all-0-op'), 'in_list');
      await page.fill(r(0, '-when-all-0-value'), 'DE, AT, CH');
      await page.selectOption(r(0, '-queue'), 'dach');
      // Rule 2, then moved above rule 1 and back with the keyboard (focus follows the rule).
      await page.focus(addRule);
      await page.keyboard.press('Enter');
      await page.locator(r(1, '-when-all-0-field')).waitFor();
      await page.fill(r(1, '-when-all-0-field'), 'company.numberOfEmployees');
      await page.selectOption(r(1, '-when-all-0-op'), 'greater_than');
      await page.fill(r(1, '-when-all-0-value'), '500');
      await page.selectOption(r(1, '-queue'), 'sales');
      await page.focus(r(1, '-up'));
      await page.keyboard.press('Enter');
      await page.locator(r(0, '-when-all-0-field')).waitFor();
      assert(await page.inputValue(r(0, '-when-all-0-field')) === 'company.numberOfEmployees', 'rule 2 moved up');
      assert(await focused(page) === 'f-cards-0-route-rules-0-down', 'focus on the moved rule: ' + await focused(page));
      await page.keyboard.press('Enter');
      assert(await page.inputValue(r(0, '-when-all-0-field')) === 'lead.country', 'and back down');
      assert(await focused(page) === 'f-cards-0-route-rules-1-up', 'focus followed: ' + await focused(page));
      await page.locator('#diag-status.ok').waitFor();
      await axe(page, 'editor with routing rules');
      await page.click('#publish');
      await page.locator('.notice.ok', { hasText: `Published ${dlg}` }).waitFor();
      await page.locator('.pill.ok', { hasText: 'Live' }).first().waitFor();
      await page.locator(r(1, '-queue')).waitFor();
      const good = await liveRoute(s, dlg);
      assert(isDeepStrictEqual(good.card.route, expected), 'published route: ' + JSON.stringify(good.card.route));
      // A rule naming a queue this site does not have (from JSON): refused at publish, at its row.
      const gone = `gone-${RUN}`;
      const bad = JSON.parse(await page.inputValue('#json-text'));
      bad.cards[0].route.rules[1].queue = gone;
      await page.fill('#json-text', JSON.stringify(bad));
      await page.click('button[data-act=import-json]');
      await page.locator(`${r(1, '-queue')} option[value="${gone}"]`, { hasText: 'not a queue of this site' }).waitFor({ state: 'attached' });
      await page.locator('#diag-status.ok').waitFor();
      await page.click('#publish');
      await page.locator('.notice.bad', { hasText: 'Publish failed' }).waitFor();
      const row = page.locator('fieldset#f-cards-0-route-rules-1');
      await row.locator('.err', { hasText: `queue \`${gone}\` is not a queue of this site` }).waitFor();
      assert(await page.getAttribute(r(1, '-queue'), 'aria-invalid') === 'true', 'the queue select is marked invalid');
      assert(!(await page.textContent('fieldset#f-cards-0-route-rules-0')).includes('not a queue'), 'rule 1 is not blamed');
      await page.locator('fieldset[data-err-anchor="$.cards[0]"]').screenshot({ path: join(shots, 'console-route-rules-1280.png') });
    } finally {
      await ctx.close();
    }
    const after = await liveRoute(s, dlg);
    assert(after.versions === 1 && isDeepStrictEqual(after.card.route, expected), 'nothing published on the refusal: ' + JSON.stringify(after));
    await unpublish(s, dlg);
  });
}
