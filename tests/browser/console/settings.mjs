// Console fields for worker settings that had none (registered by run.mjs, which passes its
// helpers): an agent's video settings (`settings.video`, `settings.video_link`) on the Agents &
// queues form, kept when the agent is saved again, the worker's refusal shown next to the field;
// the site's language (`config.language`) on the Configuration page; a queue's no-slot request
// address on the Routing page and the meeting requests on the Meetings page.

export function settingsTests(h) {
  const { test, assert, newPage, signIn, go, axe, shoot, raw, apiLogin, endpoint, RUN, ADMIN } = h;

  test('agent form: the fixed video link and the video switch are saved, shown again, kept when another field changes; a bad link is refused next to its field [settings fields]', async () => {
    const s = await apiLogin(ADMIN);
    const w = { cookie: s.cookie, headers: { 'x-csrf-token': s.csrf, origin: endpoint } };
    const site = `video-${RUN}`;
    const made = await raw('POST', '/admin/sites', { ...w, body: { id: site, name: 'Video', allowed_origins: ['https://video.example'] } });
    assert(made.status === 201 || made.status === 200, `site: ${made.status} ${JSON.stringify(made.json)}`);
    const day = [{ start: '08:00', end: '18:00' }];
    // slot_step_minutes has no field in the form: saving from the console keeps it too.
    const settings = { time_zone: 'UTC', working_hours: { mon: day, tue: day, wed: day, thu: day, fri: day }, meeting_minutes: 30, slot_step_minutes: 15 };
    const ann = await raw('PUT', `/admin/sites/${site}/agents/ann`, { ...w, body: { name: 'Ann Lind', email: `ann-${RUN}@video.example`, settings } });
    assert(ann.status === 200, `ann: ${ann.status} ${JSON.stringify(ann.json)}`);
    const stored = async () => (await raw('GET', `/admin/sites/${site}/agents/ann`, { cookie: s.cookie })).json;
    const LINK = 'https://meet.example.com/ann-lind';
    const { ctx, page } = await newPage();
    const edit = async () => {
      await go(page, `#/sites/${site}/agents`, '#ag-id');
      await page.click('button[data-act="ag-edit:ann"]');
      await page.locator('#ag-video_link').waitFor();
    };
    const save = async (ok = true) => {
      // The last save's notice goes first: the next one is this save's (after the agents reloaded).
      await page.evaluate(() => document.querySelectorAll('.notice').forEach((n) => n.remove()));
      await page.click('form[data-act=ag-save] button[type=submit]');
      if (ok) await page.locator('.notice.ok', { hasText: 'Agent ann saved' }).waitFor();
    };
    try {
      await signIn(page, ADMIN);
      await edit();
      assert(await page.isChecked('#ag-video'), 'video is on by default');
      assert(await page.inputValue('#ag-video_link') === '', 'no fixed link yet');
      await page.fill('#ag-video_link', LINK);
      await save();
      let a = await stored();
      assert(a.settings.video_link === LINK && a.settings.video !== false, 'link stored: ' + JSON.stringify(a.settings));
      // Reload: the form shows the stored link.
      await page.reload({ waitUntil: 'domcontentloaded' });
      await page.locator('.side').waitFor();
      await edit();
      assert(await page.inputValue('#ag-video_link') === LINK, 'the link is shown after a reload');
      // Another field changed: the link (and the step the form has no field for) is kept.
      await page.fill('#ag-name', 'Ann Lind-Berg');
      await save();
      a = await stored();
      assert(a.name === 'Ann Lind-Berg' && a.settings.video_link === LINK && a.settings.slot_step_minutes === 15, 'kept on save: ' + JSON.stringify(a));
      // Video off, stored, shown again.
      await edit();
      await page.uncheck('#ag-video');
      await save();
      a = await stored();
      assert(a.settings.video === false && a.settings.video_link === LINK, 'video off: ' + JSON.stringify(a.settings));
      await edit();
      assert(!(await page.isChecked('#ag-video')), 'video off is shown');
      // A plain http:// link: the worker's 400 names the field, shown next to it; nothing stored.
      await page.fill('#ag-video_link', 'http://meet.example.com/ann');
      await save(false);
      await page.locator('.notice.bad', { hasText: 'settings.video_link' }).waitFor();
      await page.locator('#ag-video_link-err', { hasText: 'settings.video_link' }).waitFor();
      assert(await page.getAttribute('#ag-video_link', 'aria-invalid') === 'true', 'the field is marked invalid');
      assert(await page.inputValue('#ag-video_link') === 'http://meet.example.com/ann', 'what was typed is kept');
      assert((await stored()).settings.video_link === LINK, 'nothing stored on a refusal');
      await shoot(page, 'agent-video-link');
      await axe(page, 'agent form with a refused video link');
    } finally {
      await ctx.close();
    }
  });

  test('configuration: the chat language (Deutsch) is saved as config.language and shown after a reload [settings fields]', async () => {
    const s = await apiLogin(ADMIN);
    const config = async () => (await raw('GET', '/admin/sites/acme', { cookie: s.cookie })).json.config;
    const before = await config();
    const { ctx, page } = await newPage();
    try {
      await signIn(page, ADMIN);
      await go(page, '#/config', '#c-language');
      const values = await page.$$eval('#c-language option', (os) => os.map((o) => o.value));
      assert(JSON.stringify(values) === JSON.stringify(['auto', 'en', 'de', 'fr', 'nl', 'es', 'ja', 'ar']), 'options: ' + values);
      assert(await page.inputValue('#c-language') === (before.language || 'en'), 'the stored language is selected');
      await page.selectOption('#c-language', 'de');
      await page.click('button[data-act=save-config]');
      await page.locator('.notice.ok', { hasText: 'Configuration saved' }).waitFor();
      const after = await config();
      assert(after.language === 'de' && after.bot_name === before.bot_name, 'saved: ' + JSON.stringify(after));
      await page.reload({ waitUntil: 'domcontentloaded' });
      await page.locator('.side').waitFor();
      await go(page, '#/config', '#c-language');
      assert(await page.inputValue('#c-language') === 'de', 'Deutsch shown after a reload');
      await axe(page, 'configuration with the language');
      // Back to English for the tests after this one.
      await page.selectOption('#c-language', 'en');
      await page.evaluate(() => document.querySelectorAll('.notice').forEach((n) => n.remove()));
      await page.click('button[data-act=save-config]');
      await page.locator('.notice.ok', { hasText: 'Configuration saved' }).waitFor();
      assert((await config()).language === 'en', 'English again');
    } finally {
      await ctx.close();
    }
  });

  test('routing: a queue\'s meeting-request address saved (a bad one refused); meetings: the no-slot requests listed [settings fields]', async () => {
    const s = await apiLogin(ADMIN);
    const w = { cookie: s.cookie, headers: { 'x-csrf-token': s.csrf, origin: endpoint } };
    const site = `req-${RUN}`;
    const made = await raw('POST', '/admin/sites', { ...w, body: { id: site, name: 'Requests', allowed_origins: ['https://req.example'] } });
    assert(made.status === 201 || made.status === 200, `site: ${made.status} ${JSON.stringify(made.json)}`);
    const day = [{ start: '08:00', end: '18:00' }];
    const bo = await raw('PUT', `/admin/sites/${site}/agents/bo`, { ...w, body: { name: 'Bo Ek', email: `bo-${RUN}@req.example`, settings: { time_zone: 'UTC', working_hours: { mon: day }, meeting_minutes: 30 } } });
    assert(bo.status === 200, `bo: ${bo.status}`);
    const q = await raw('PUT', `/admin/sites/${site}/queues/help`, { ...w, body: { name: 'Help', agents: ['bo'] } });
    assert(q.status === 200, `queue: ${q.status}`);
    const notify = async () => (await raw('GET', `/admin/sites/${site}/queues/help/request-notify`, { cookie: s.cookie })).json.email;
    const { ctx, page } = await newPage();
    try {
      await signIn(page, ADMIN);
      await go(page, `#/sites/${site}/routing`, '#rn-help');
      assert(await page.inputValue('#rn-help') === '', 'no address yet');
      await page.fill('#rn-help', 'not an address');
      await page.click('form[data-act="rt-notify:help"] button[type=submit]');
      await page.locator('.notice.bad', { hasText: 'email' }).waitFor();
      assert(await page.inputValue('#rn-help') === 'not an address', 'what was typed is kept');
      assert(await notify() === null, 'nothing stored on a refusal');
      await page.fill('#rn-help', `help-${RUN}@req.example`);
      await page.evaluate(() => document.querySelectorAll('.notice').forEach((n) => n.remove()));
      await page.click('form[data-act="rt-notify:help"] button[type=submit]');
      await page.locator('.notice.ok', { hasText: 'Request notices of queue help saved' }).waitFor();
      assert(await notify() === `help-${RUN}@req.example`, 'address stored');
      await page.reload({ waitUntil: 'domcontentloaded' });
      await page.locator('.side').waitFor();
      await go(page, `#/sites/${site}/routing`, '#rn-help');
      assert(await page.inputValue('#rn-help') === `help-${RUN}@req.example`, 'address shown after a reload');
      await axe(page, 'routing with the request address');
      // A visitor's no-slot request (the public API, as the widget sends it) shows on Meetings.
      const r = await fetch(`${endpoint}/v1/sites/${site}/meetings/requests`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `req-${RUN}-1` },
        body: JSON.stringify({ route: 'queue:help', email: `eva-${RUN}@visitor.example`, name: 'Eva Holm', preferred: 'Tuesday mornings', days: ['2030-01-08'], tz: 'Europe/Berlin', answers: { seats: 'team of 40', topic: '{{agent.name}}' } }),
      });
      assert(r.status === 201, `request: ${r.status} ${await r.text()}`);
      await go(page, `#/sites/${site}/meetings`, '#m-q');
      const row = page.locator('#mr-h ~ .table-wrap tbody tr', { hasText: `eva-${RUN}@visitor.example` });
      await row.waitFor();
      const text = await row.textContent();
      assert(text.includes('Eva Holm') && text.includes('Tuesday mornings') && text.includes('2030-01-08') && text.includes('help'), 'request row: ' + text);
      // The visitor's answers, one `card: value` item each, as plain text.
      const answers = await row.locator('ul.answers li').allTextContents();
      assert(JSON.stringify(answers) === JSON.stringify(['seats: team of 40', 'topic: {{agent.name}}']), 'request answers: ' + JSON.stringify(answers));
      await shoot(page, 'meeting-requests');
      await axe(page, 'meetings with requests');
    } finally {
      await ctx.close();
    }
  });
}
