// The browser tests' view of the API behind the widget: the stub (tests/browser/stub-server.mjs, read
// through its /_stub/* routes) or the real worker (seeded and read through its admin API, with what
// reached Marketo read from the Marketo peer's GET /_peer/state). Both offer the same methods, so the
// tests in run.mjs are written once:
//   setup(siteOrigin)          seed the fixture sites (real: allowed origin = the test site's origin)
//   reset()                    back to the fixture versions; later reads only see what came after
//   liveHash(site, id)         the published content hash of a dialogue
//   publish(site, dialogue)    publish a new version, returns its hash
//   leads(email)               leads the API stored since reset() for that email: [{email, dialogue?, fields}]
//   delivered(email, what)     waits until the lead is where it ends up (real: in Marketo), returns its fields
//   eventCounts(dialogue)      {triggered, engaged, ...} the API counted since reset()
//   meetings()                 meetings booked since reset(): [{email, agent}]
//   siteConfig(site, config)   replace a fixture site's settings (config) as its owner would

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function poll(fn, what, tries = 80, every = 250) {
  for (let i = 0; i < tries; i++) {
    const v = await fn(i);
    if (v) return v;
    await sleep(every);
  }
  throw new Error('timed out waiting for ' + what);
}

async function call(base, method, path, body, headers = {}) {
  const r = await fetch(base + path, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (e) { /* not JSON */ }
  return { status: r.status, json, text };
}

/** The stub API's control routes. */
export function stubBackend(endpoint, fixtures) {
  const control = async (path, body) => {
    const r = await call(endpoint, body === undefined ? 'GET' : 'POST', path, body);
    if (r.status !== 200) throw new Error(`${path}: ${r.status} (the endpoint needs the stub's /_stub control routes)`);
    return r.json;
  };
  const state = () => control('/_stub/state');
  return {
    real: false,
    async setup() {},
    reset: () => control('/_stub/reset', {}),
    liveHash: async (site, id) => (await state()).published[site][id],
    publish: async (site, dialogue) => (await control('/_stub/publish', { site, dialogue })).hash,
    async leads(email) {
      return (await state()).leads.filter((l) => l.fields && l.fields.email === email)
        .map((l) => ({ email: l.fields.email, dialogue: l.dialogue, key: l.key, fields: l.fields, answers: l.answers }));
    },
    // The stub keeps the body as sent; a question card with `field` maps its answer like the worker does.
    async delivered(email) {
      const l = await poll(async () => (await state()).leads.find((x) => x.fields && x.fields.email === email), 'the lead at the stub');
      const fx = fixtures()[l.site || 'acme'].dialogues.find((d) => d.id === l.dialogue);
      const mapped = {};
      for (const c of fx ? fx.cards : []) if (c.field && l.answers && l.answers[c.id] !== undefined) mapped[c.field] = l.answers[c.id];
      return { ...mapped, ...l.fields };
    },
    async eventCounts(dialogue) {
      const out = {};
      for (const e of (await state()).events) if (e.dialogue === dialogue) out[e.type] = (out[e.type] || 0) + 1;
      return out;
    },
    meetings: async () => (await state()).meetings.map((m) => ({ email: m.lead && m.lead.email, agent: m.agent })),
    siteConfig: (site, config) => control('/_stub/site-config', { site, config }),
  };
}

/** The real worker: admin API with the bearer token, the Marketo peer, optionally a CalDAV calendar. */
export function realBackend({ endpoint, token, marketo, caldav, fixtures }) {
  const auth = { authorization: `Bearer ${token}` };
  const admin = async (method, path, body, ok = [200, 201]) => {
    const r = await call(endpoint, method, path, body, auth);
    if (!ok.includes(r.status)) throw new Error(`${method} ${path}: ${r.status} ${r.text.slice(0, 300)}`);
    return r.json;
  };
  const original = []; // [site, dialogue id, hash] as seeded
  let base = { leads: new Set(), meetings: new Set(), metrics: {} };
  const sites = () => Object.keys(fixtures());
  const day = (d) => new Date(Date.now() + d * 86400000).toISOString().slice(0, 10);

  async function metrics(site) {
    const j = await admin('GET', `/admin/sites/${site}/metrics?from=${day(-1)}&to=${day(1)}`);
    const out = {};
    for (const row of j.days || []) {
      const m = (out[row.dialogue] = out[row.dialogue] || {});
      for (const k of ['triggered', 'engaged', 'completed', 'captured', 'meetings', 'goals']) m[k] = (m[k] || 0) + (row[k] || 0);
    }
    return out;
  }
  const allLeads = async () => (await Promise.all(sites().map(async (s) => (await admin('GET', `/admin/sites/${s}/leads`)).leads || []))).flat();
  const allMeetings = async () => (await admin('GET', '/admin/sites/acme/meetings')).meetings || [];
  const peerState = async () => {
    if (!marketo) throw new Error('--marketo is needed to see what reached Marketo');
    const r = await call(marketo, 'GET', '/_peer/state');
    if (r.status !== 200) throw new Error(`Marketo peer state: ${r.status}`);
    return r.json;
  };

  let origin = '';
  const putSite = (site, config, leadFields) => admin('PUT', `/admin/sites/${site}`, {
    name: site, allowed_origins: [origin], config, lead_fields: leadFields || [],
    marketo: { program_id: 1001, program_status: 'Engaged' },
  });

  return {
    real: true,
    async setup(siteOrigin) {
      origin = siteOrigin;
      for (const [site, s] of Object.entries(fixtures())) {
        await putSite(site, s.config, s.lead_fields);
        for (const d of s.dialogues) {
          const j = await admin('POST', `/admin/sites/${site}/dialogues`, d, [201]);
          original.push([site, j.id, j.hash]);
        }
      }
      if (marketo) await admin('POST', '/admin/marketo/setup', {});
      if (caldav) {
        const hours = [{ start: '08:00', end: '18:00' }];
        const week = Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, hours]));
        await admin('PUT', '/admin/sites/acme/agents/alice', {
          name: 'Alice Agent', email: 'alice@acme.test',
          settings: { time_zone: 'Europe/Amsterdam', working_hours: week, meeting_minutes: 30, min_notice_minutes: 60, horizon_days: 30 },
        });
        await admin('PUT', '/admin/sites/acme/agents/alice/calendar', { provider: 'caldav', url: caldav.url, username: caldav.user, password: caldav.password });
        await admin('PUT', '/admin/sites/acme/queues/sales', { name: 'Sales', agents: ['alice'] });
      }
    },
    async reset() {
      for (const [site, id, hash] of original) {
        if ((await this.liveHash(site, id)) !== hash) await admin('POST', `/admin/sites/${site}/dialogues/${id}/publish`, { hash });
      }
      base = {
        leads: new Set((await allLeads()).map((l) => l.id)),
        meetings: new Set(caldav ? (await allMeetings()).map((m) => m.id) : []),
        metrics: await metrics('acme'),
      };
    },
    async liveHash(site, id) {
      const v = (await admin('GET', `/admin/sites/${site}/dialogues`)).versions || [];
      const live = v.find((x) => x.dialogue === id && Number(x.live) === 1);
      return live && live.hash;
    },
    publish: async (site, dialogue) => (await admin('POST', `/admin/sites/${site}/dialogues`, dialogue, [201])).hash,
    async leads(email) {
      return (await allLeads()).filter((l) => !base.leads.has(l.id) && l.email === email)
        .map((l) => ({ email: l.email, id: l.id, status: l.status, fields: typeof l.record === 'string' ? JSON.parse(l.record) : l.record }));
    },
    // Waits until Marketo (the peer) has the lead; kicks the outbox like the minute cron would.
    async delivered(email) {
      return poll(async (i) => {
        if (i % 8 === 7) await admin('POST', '/admin/outbox/sweep', {}, [200, 202]);
        return (await peerState()).leads.find((l) => String(l.email).toLowerCase() === email.toLowerCase());
      }, `lead ${email} in Marketo`, 120);
    },
    async eventCounts(dialogue) {
      const now = (await metrics('acme'))[dialogue] || {};
      const was = base.metrics[dialogue] || {};
      return Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v - (was[k] || 0)]));
    },
    async meetings() {
      return (await allMeetings()).filter((m) => !base.meetings.has(m.id))
        .map((m) => ({ email: m.lead_email, agent: m.agent && m.agent.name, status: m.status, provider: m.provider }));
    },
    siteConfig: (site, config) => putSite(site, config, fixtures()[site].lead_fields),
  };
}
