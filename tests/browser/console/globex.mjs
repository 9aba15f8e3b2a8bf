// Issue 14's browser test, the whole path a new site owner takes (registered by run.mjs, which
// passes its helpers): an admin creates site `globex` in the console with two embed origins,
// opens Install, pastes the tag into a page served from one of them (a local origin other than
// the worker's and acme's), sees the installation check turn green, creates a dialogue in the
// editor (JSON import) and publishes it (after a version reading a field Marketo does not have
// is refused with the rule's path), points it at globex's Marketo program; a visitor on
// that page converts and books a meeting (a real CalDAV calendar in Radicale, Radicale user
// agent4 as tests/e2e/tests/console.rs starts it); the lead reaches the Marketo peer as a member
// of globex's program, not acme's; acme's leads, meetings and report totals are untouched, and
// acme's cancel / no-show (404) of globex's meeting leaves it scheduled.

const GLOBEX_PROGRAM = { id: 1077, name: 'Globex Chat', channel: 'Chat', statuses: ['Not in Program', 'Member', 'Engaged', 'Meeting Booked'] };

function globexDialogue(id) {
  return {
    version: 1, id, name: 'Globex demo', priority: 10,
    audience: { all: [{ field: 'page.path', op: 'matches', value: '*' }] },
    response_delay_ms: 0,
    cards: [
      { type: 'capture', id: 'email', text: 'Hi from Globex! What is your work email?', kind: 'email', field: 'email', next: 'meet' },
      { type: 'meeting', id: 'meet', text: 'Pick a time with Globex sales:', route: { queue: 'globex-sales' }, confirmation: 'Booked with {{meeting.agent}} on {{meeting.time}}.', next: 'end', on_skip: 'end' },
      { type: 'end', id: 'end', text: 'Thanks from Globex!' },
    ],
  };
}

export function globexTests(h) {
  const { test, assert, waitFor, sleep, newPage, signIn, go, axe, shoot, raw, apiLogin, customerSite, shadow, endpoint, peer, RUN, ADMIN } = h;

  test('issue 14: globex from the console to a booked meeting on its own origin; the lead in globex\'s program; acme untouched', async () => {
    assert(peer, 'needs the Marketo peer (--peer)');
    const s = await apiLogin(ADMIN);
    const w = { cookie: s.cookie, headers: { 'x-csrf-token': s.csrf, origin: endpoint } };
    const existing = (await raw('GET', '/admin/sites', { cookie: s.cookie })).json.sites.map((x) => x.id);
    const id = existing.includes('globex') ? `globex-${RUN}` : 'globex';
    const count = async (site, what) => (await raw('GET', `/admin/sites/${site}/${what}`, { cookie: s.cookie })).json[what].length;
    const acmeBefore = { leads: await count('acme', 'leads'), meetings: await count('acme', 'meetings') };
    // acme's report totals (the Reports page's `/metrics`), to compare after globex's traffic.
    const acmeTotals = async () => {
      const m = await raw('GET', '/admin/sites/acme/metrics', { cookie: s.cookie });
      assert(m.status === 200 && m.json.total, `acme metrics: ${m.status} ${JSON.stringify(m.json)}`);
      return JSON.stringify(m.json.total);
    };
    const acmeTotalsBefore = await acmeTotals();
    // Globex's own program in the peer (Marketo knows it before the site owner names it).
    const seeded = await (await fetch(peer + '/_peer/seed', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ programs: [GLOBEX_PROGRAM] }) })).json();
    assert(seeded.ok === true, 'seed program: ' + JSON.stringify(seeded));
    // The shop: a page on localhost (not the worker's 127.0.0.1, not acme's origins) with the
    // tag pasted in once the console shows it.
    let tag = '';
    const shopPage = () => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Globex shop</title></head><body><main><h1>Globex</h1><p>Widgets for every need.</p></main>${tag}</body></html>`;
    const shop = await customerSite(shopPage);
    const shopOrigin = shop.origin.replace('127.0.0.1', 'localhost');
    const { ctx, page } = await newPage();
    try {
      // 1. Create the site with two origins: the shop and its production domain.
      await signIn(page, ADMIN);
      await go(page, '#/sites', '#ns-id');
      await page.fill('#ns-id', id);
      await page.fill('#ns-name', 'Globex');
      await page.fill('#ns-origins', `${shopOrigin}\nhttps://www.globex.example`);
      await page.click('form[data-act=create-site] button[type=submit]');
      // 2. Install: the tag, and the check before any page loaded it.
      await page.locator('#tag-snippet').waitFor();
      await page.waitForFunction(() => !document.querySelector('main')?.textContent.includes('Loading…'));
      assert(await page.evaluate(() => location.hash) === `#/sites/${id}/install`, 'Install page of the new site');
      tag = await page.textContent('#tag-snippet');
      assert(tag.includes(`data-site="${id}"`), 'tag: ' + tag);
      const site = (await raw('GET', `/admin/sites/${id}`, { cookie: s.cookie })).json;
      assert(JSON.stringify(site.allowed_origins) === JSON.stringify([shopOrigin, 'https://www.globex.example']), 'origins: ' + JSON.stringify(site.allowed_origins));
      await page.locator('#install-state', { hasText: 'no request yet' }).waitFor();
      // 3. A calendar-connected agent in a queue (the Agents page has its own test: API here).
      const acmeAgents = (await raw('GET', '/admin/sites/acme/agents', { cookie: s.cookie })).json.agents;
      const caldavBase = acmeAgents.find((a) => a.calendar && a.calendar.provider === 'caldav').calendar.account.replace(/agent\d+\/calendar\/$/, '');
      const day = [{ start: '00:00', end: '23:59' }];
      const hours = { mon: day, tue: day, wed: day, thu: day, fri: day, sat: day, sun: day };
      const agent = await raw('PUT', `/admin/sites/${id}/agents/gina`, { ...w, body: { name: 'Gina Globex', email: `gina-${RUN}@globex.example`, settings: { time_zone: 'UTC', working_hours: hours, meeting_minutes: 30, min_notice_minutes: 60, horizon_days: 14 } } });
      assert(agent.status === 200, `agent: ${agent.status} ${JSON.stringify(agent.json)}`);
      const cal = await raw('PUT', `/admin/sites/${id}/agents/gina/calendar`, { ...w, body: { url: `${caldavBase}agent4/calendar/`, username: 'agent4', password: 'pw4' } });
      assert(cal.status === 200, `calendar: ${cal.status} ${JSON.stringify(cal.json)}`);
      const q = await raw('PUT', `/admin/sites/${id}/queues/globex-sales`, { ...w, body: { name: 'Globex sales', agents: ['gina'] } });
      assert(q.status === 200, `queue: ${q.status} ${JSON.stringify(q.json)}`);
      // 4. The dialogue, written in the editor (JSON import) and published from it.
      const dlg = `globex-demo-${RUN}`;
      await go(page, `#/sites/${id}/dialogues`, '#new-dialogue');
      await page.click('#new-dialogue');
      await page.locator('#json-text').waitFor();
      // A rule field Marketo does not have: the engine finds nothing wrong, the publish is
      // refused with the rule's path and the field (the describe of the connected instance).
      const typo = globexDialogue(dlg);
      typo.audience.all.push({ field: 'lead.leadScore', op: 'greater_than', value: 10 });
      await page.fill('#json-text', JSON.stringify(typo));
      await page.click('button[data-act=import-json]');
      await page.locator('#diag-status.ok').waitFor();
      await page.click('#publish');
      const refused = await page.locator('.notice.bad', { hasText: 'Publish failed' }).textContent();
      assert(refused.includes('dialogue.audience.all[1].field') && refused.includes('`lead.leadScore`') && refused.includes('no field `leadScore`'), 'refusal: ' + refused);
      assert((await raw('GET', `/admin/sites/${id}/dialogues`, { cookie: s.cookie })).json.versions.length === 0, 'nothing stored');
      await page.fill('#json-text', JSON.stringify(globexDialogue(dlg)));
      await page.click('button[data-act=import-json]');
      await page.locator('#diag-status.ok').waitFor();
      assert(await page.inputValue('#f-id') === dlg, 'the form shows the imported dialogue');
      await page.click('#publish');
      await page.locator('.notice.ok', { hasText: `Published ${dlg}` }).waitFor();
      const listed = (await raw('GET', `/admin/sites/${id}/dialogues`, { cookie: s.cookie })).json.versions.filter((v) => v.dialogue === dlg);
      assert(listed.length === 1 && listed[0].live === 1, 'live on globex: ' + JSON.stringify(listed));
      const onAcme = (await raw('GET', '/admin/sites/acme/dialogues', { cookie: s.cookie })).json.versions.filter((v) => v.dialogue === dlg);
      assert(onAcme.length === 0, 'not on acme');
      // Globex's Marketo program for the dialogue.
      await go(page, `#/sites/${id}/dialogues/${dlg}`, '#dm-program');
      await page.fill('#dm-program', String(GLOBEX_PROGRAM.id));
      await page.fill('#dm-engaged', 'Engaged');
      await page.fill('#dm-captured', 'Engaged');
      await page.fill('#dm-meeting', 'Meeting Booked');
      await page.click('button[data-act=save-dm]');
      await page.locator('.notice.ok', { hasText: 'Marketo program saved' }).waitFor();
      // 5. A visitor on the shop: the installation check turns green, the visitor converts and books.
      const email = `buyer-${RUN}@globex-customer.example`;
      const v = await newPage();
      try {
        await v.page.goto(shopOrigin + '/');
        await shadow(v.page, '.launcher').waitFor({ timeout: 30000 });
        await shadow(v.page, '.launcher').click();
        await shadow(v.page, 'input[type=email]').waitFor();
        assert((await shadow(v.page, '.log').textContent()).includes('Hi from Globex'), 'globex dialogue shown');
        await shadow(v.page, 'input[type=email]').fill(email);
        await shadow(v.page, 'input[type=email]').press('Enter');
        await shadow(v.page, '.time').first().waitFor({ timeout: 30000 });
        await shadow(v.page, '.time').first().click();
        await waitFor(async () => (await shadow(v.page, '.log').textContent()).includes('Booked with Gina Globex'), 'the booking confirmation', 60, 500);
        await waitFor(async () => (await shadow(v.page, '.log').textContent()).includes('Thanks from Globex'), 'the end card');
        await v.page.close(); // pagehide flushes the event batch
      } finally {
        await v.ctx.close();
      }
      await go(page, `#/sites/${id}/install`, '#tag-snippet');
      await waitFor(async () => {
        await page.click('button[data-act=check-install]');
        await sleep(300);
        return (await page.locator('#install-state .pill.ok').count()) >= 1;
      }, 'the installation check to turn green', 40, 500);
      assert((await page.textContent('#install-state')).includes(`seen on ${shopOrigin} at `), 'seen on the shop');
      await axe(page, 'install (globex)');
      // 6. The meeting on globex, the lead in Marketo under globex's program.
      const meetings = (await raw('GET', `/admin/sites/${id}/meetings`, { cookie: s.cookie })).json.meetings;
      assert(meetings.length === 1 && meetings[0].lead_email === email && meetings[0].agent.id === 'gina', 'globex meeting: ' + JSON.stringify(meetings));
      let lead = null;
      await waitFor(async () => {
        const st = await (await fetch(peer + '/_peer/state')).json();
        lead = st.leads.find((l) => (l.email || '').toLowerCase() === email);
        const members = lead ? st.program_members[String(GLOBEX_PROGRAM.id)] || {} : {};
        return lead && members[String(lead.id)];
      }, 'the lead in globex\'s program', 90, 1000);
      const st = await (await fetch(peer + '/_peer/state')).json();
      assert(!(st.program_members['1001'] || {})[String(lead.id)], 'not a member of acme\'s program 1001');
      // 7. acme untouched.
      const acmeAfter = { leads: await count('acme', 'leads'), meetings: await count('acme', 'meetings') };
      assert(JSON.stringify(acmeAfter) === JSON.stringify(acmeBefore), `acme before ${JSON.stringify(acmeBefore)}, after ${JSON.stringify(acmeAfter)}`);
      const acmeLeads = (await raw('GET', '/admin/sites/acme/leads', { cookie: s.cookie })).json.leads;
      assert(!JSON.stringify(acmeLeads).includes(email), 'the globex lead is not in acme\'s list');
      const globexLeads = (await raw('GET', `/admin/sites/${id}/leads`, { cookie: s.cookie })).json.leads;
      assert(JSON.stringify(globexLeads).includes(email), 'the lead is in globex\'s list');
      // acme's reports do not count globex's conversation, lead or meeting.
      const acmeTotalsAfter = await acmeTotals();
      assert(acmeTotalsAfter === acmeTotalsBefore, `acme report totals before ${acmeTotalsBefore}, after ${acmeTotalsAfter}`);
      // acme cannot cancel or mark no-show globex's meeting (404 both: not found on acme), and it
      // stays scheduled.
      const globexMeeting = meetings[0].id;
      const cancel = await raw('POST', `/admin/sites/acme/meetings/${globexMeeting}/cancel`, w);
      assert(cancel.status === 404, `acme cancel of globex's meeting: ${cancel.status} ${JSON.stringify(cancel.json)}`);
      const noShow = await raw('POST', `/admin/sites/acme/meetings/${globexMeeting}/no-show`, w);
      assert(noShow.status === 404, `acme no-show of globex's meeting: ${noShow.status} ${JSON.stringify(noShow.json)}`);
      const still = (await raw('GET', `/admin/sites/${id}/meetings`, { cookie: s.cookie })).json.meetings;
      assert(still.length === 1 && still[0].id === globexMeeting && still[0].status === 'scheduled', 'globex meeting after acme\'s attempts: ' + JSON.stringify(still));
      // The same request on globex's own route works (so the 404 above is the site's doing).
      const own = await raw('POST', `/admin/sites/${id}/meetings/${globexMeeting}/no-show`, w);
      assert(own.status === 200, `globex's own no-show: ${own.status} ${JSON.stringify(own.json)}`);
      await shoot(page, 'install-globex');
    } finally {
      shop.srv.close();
      await ctx.close();
    }
  });

  test('Marketo page: the initial sync started in the console runs to 100% with its progress, company records and rule fields shown', async () => {
    assert(peer, 'needs the Marketo peer (--peer)');
    // A lead whose company Marketo knows: the sync caches it with its company record
    // (acme's rules read company.industry).
    const firm = `Initech ${RUN}`;
    const seed = { companies: [{ company: firm, industry: 'Software' }], leads: [{ email: `sync-${RUN}@initech.example`, firstName: 'Peter', company: firm }] };
    const seeded = await (await fetch(peer + '/_peer/seed', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(seed) })).json();
    assert(seeded.ok === true, 'seed: ' + JSON.stringify(seeded));
    const { ctx, page } = await newPage();
    try {
      await signIn(page, ADMIN);
      await go(page, '#/sites/acme/marketo', '#mi-progress');
      await page.click('button[data-act=test-marketo]');
      await page.locator('#mk-test').waitFor();
      const since = new Date(Date.now() - 30 * 86400000).toISOString().slice(0, 10);
      await page.fill('#mi-since', since);
      await page.click('form[data-act=start-initial-sync] button[type=submit]');
      await page.locator('.notice.ok', { hasText: 'Initial sync started' }).waitFor();
      // The minute cron runs the sync (wrangler dev runs no cron by itself).
      await waitFor(async () => {
        await fetch(endpoint + '/__scheduled?cron=*/1+*+*+*+*');
        await page.click('button[data-act=refresh-marketo]');
        await sleep(300);
        return (await page.textContent('#mi-percent')) === '100%';
      }, 'the initial sync to finish', 60, 1000);
      const main = await page.textContent('main');
      assert(main.includes('Leads stored') && main.includes('With their company record') && main.includes('done'), 'progress: ' + main.slice(0, 400));
      const s = await apiLogin(ADMIN);
      const sync = (await raw('GET', '/admin/console/marketo/initial-sync', { cookie: s.cookie })).json;
      assert(sync.sync.companies_done >= 1, 'a lead cached with its company record: ' + JSON.stringify(sync.sync));
      assert(sync.company_fields.some((f) => f.field === 'company.industry' && f.marketo === 'industry (company record)'), 'company fields: ' + JSON.stringify(sync.company_fields));
      const known = await page.evaluate(() => {
        const dt = [...document.querySelectorAll('dt')].find((d) => d.textContent === 'With their company record');
        return dt ? Number(dt.nextElementSibling.textContent) : -1;
      });
      assert(known === sync.sync.companies_done, 'the page shows the leads with their company record: ' + known);
      const fields = await page.textContent('#mi-fields');
      assert(fields.includes('lead.FirstName reads Marketo\'s firstName'), 'rule fields: ' + fields);
      await shoot(page, 'marketo-sync');
      await axe(page, 'marketo (initial sync)');
    } finally {
      await ctx.close();
    }
  });
}
