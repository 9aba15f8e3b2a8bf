// The chat module's host side: gives the Rust widget (dynchat_web) storage, network, time zone and page events.
import init, { create, language } from 'dynchat-web-glue';

export default init;

const jstr = JSON.stringify;
const parse = (s, d) => { try { return JSON.parse(s) ?? d; } catch (e) { return d; } };

// The catalogue of a language other than English (built in), fetched once per conversation from
// the worker as a content-hashed file (`i18n-{lang}.{hash}.json`, DYNCHAT_I18N filled in by
// `cargo xtask widget`); none when it cannot be had within 4 s (the interface then stays English).
const catalogue = (api, lang) => DYNCHAT_I18N[lang] && Promise.race([
  fetch(`${api}/widget/i18n-${lang}.${DYNCHAT_I18N[lang]}.json`).then((r) => (r.ok ? r.text() : undefined), () => undefined),
  new Promise((ok) => setTimeout(ok, 4000)),
]);

export async function mount(ctx) {
  const { store, api, site, entry } = ctx;
  const base = `${api}/v1/sites/${encodeURIComponent(site)}`;
  const saved = parse(ctx.saved, null);
  // The language: a resumed conversation keeps its own (a stored session names it unless it is
  // English); else the site's setting, the page's <html lang> and the browser's languages,
  // negotiated by the engine.
  const cfg = jstr(ctx.config || {});
  const stored = parse(saved?.session, null);
  const lang = stored ? stored.lang || 'en'
    : language(cfg, document.documentElement.lang, (navigator.languages || []).join(','));
  const text = await catalogue(api, lang);
  // The visitor's zone, and days and times in the conversation's language, by the browser: in the
  // browser's own locale when that is the conversation's language (en-GB stays en-GB). Made when
  // slots, a booking or a request need them, not at mount: the page's first `Intl` date object
  // costs about 10 ms of ICU set-up on the main thread (later ones a fraction of a millisecond).
  let tz, dayF, timeF, zoneF;
  const intl = () => {
    tz = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
    const loc = (navigator.language || '').split('-')[0] === lang ? undefined : lang;
    const dtf = (o) => {
      o = { timeZone: tz, ...o };
      try { return new Intl.DateTimeFormat(loc, o); } catch (e) { return new Intl.DateTimeFormat(undefined, o); } // a bad stored tag
    };
    dayF = dtf({ weekday: 'short', day: 'numeric', month: 'short' });
    timeF = dtf({ hour: '2-digit', minute: '2-digit' });
    zoneF = dtf({ hour: '2-digit', minute: '2-digit', timeZoneName: 'short' });
  };
  let session = ctx.session || stored?.id || '';
  let audio = null, chat = null;
  // An experiment: the variant (core.js asked the worker) runs its own flow and rides on every
  // event, lead and booking.
  const variant = ctx.variant || '';
  const arm = variant && entry.experiment.variants.find((v) => v.id === variant);
  const tag = (o) => (variant ? { ...o, variant } : o);

  let unread = false;
  // The host's methods, by the number the module calls each (src/shell.rs).
  const host = [
    /* save */ (state) => {
      const s = parse(state, {});
      const st = parse(s.session, {}).status;
      if (st === 'active') store.set('chat', state);
      else if (st === 'completed' || st === 'dropped') {
        store.del('chat');
        if (st === 'completed') {
          const seen = parse(store.get('seen'), {});
          seen[entry.id] = { ...(seen[entry.id] || { shown: 1 }), completed: true };
          store.set('seen', jstr(seen));
        }
      }
    },
    /* event */ (e) => { ctx.track(tag(parse(e, {}))); },
    /* emit */ (name, detail) => { ctx.emit(name, parse(detail, {})); },
    /* lead */ (key, body) => { ctx.queueLead(key, jstr(tag(parse(body, {})))); },
    /* slots */ (facts) => {
      // A rules route also carries the facts /book sends (lead fields, answers): the times shown
      // are then the queue's the booking lands in.
      intl();
      const f = parse(facts, {}), q = new URLSearchParams({ route: f.route, tz, days: 14 });
      for (const [p, n] of [['lead', 'lead.'], ['answers', 'answer.']]) for (const k in f[p]) q.append(n + k, f[p][k]);
      fetch(`${base}/slots?${q}`)
        .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
        .then((j) => {
          const slots = (j.slots || []).map((s) => {
            const d = new Date(s.start);
            return { start_ms: +d, end_ms: Date.parse(s.end), day: dayF.format(d), time: timeF.format(d), label: `${dayF.format(d)}, ${timeF.format(d)}` };
          }).filter((s) => s.end_ms > s.start_ms);
          // In a repeated hour (the night clocks go back) two starts read the same: name the zone's
          // offset on those, so the visitor can tell 02:00 CEST from 02:00 CET.
          const seen = new Map();
          for (const s of slots) seen.set(s.label, (seen.get(s.label) || 0) + 1);
          for (const s of slots) if (seen.get(s.label) > 1) {
            s.time = zoneF.format(new Date(s.start_ms));
            s.label = `${s.day}, ${s.time}`;
          }
          chat.slots(jstr({ tz, slots }));
        })
        .catch(() => chat.slots(jstr({ error: 'The available times could not be loaded.' })));
    },
    /* book */ (key, body) => {
      intl();
      const b = parse(body, {});
      const req = {
        route: b.route, start: new Date(b.start_ms).toISOString(), end: new Date(b.end_ms).toISOString(), tz,
        lead: b.lead, dialogue: b.dialogue, session: b.session,
        ...(b.answers ? { answers: b.answers } : {}), // read by a meeting's routing rules
      };
      const k = key.length > 128 ? key.slice(0, 64) + key.slice(-64) : key;
      if (ctx.preview) { // a draft preview books nothing
        const d = new Date(req.start);
        chat.booking(jstr({ status: 'booked', meeting_id: 'preview', agent: 'an agent (preview: not booked)', time: `${dayF.format(d)}, ${timeF.format(d)} (${tz})` }));
        return;
      }
      fetch(`${base}/book`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': k }, body: jstr(tag(req)) })
        .then(async (r) => {
          const j = await r.json().catch(() => ({}));
          if (r.ok) {
            const d = new Date(j.start || req.start);
            return { status: 'booked', meeting_id: String(j.meeting || ''), agent: String(j.agent || ''), time: `${dayF.format(d)}, ${timeF.format(d)} (${tz})`, ...(typeof j.video === 'string' ? { video: j.video } : {}) };
          }
          if (r.status === 409) return { status: 'slot_taken' };
          return { status: 'failed', reason: 'server' }; // a code: the engine says it in the visitor's language
        }, () => ({ status: 'failed', reason: 'offline' }))
        .then((res) => chat.booking(jstr(res)));
    },
    // The no-slot fallback: the visitor's preferred times for the queue (stored once per key).
    /* request */ (key, body) => {
      if (ctx.preview) { chat.requested(true); return; } // a draft preview sends nothing
      intl();
      const k = key.length > 128 ? key.slice(0, 64) + key.slice(-64) : key;
      fetch(`${base}/meetings/requests`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': k }, body: jstr({ ...parse(body, {}), tz }) })
        .then((r) => r.ok, () => false)
        .then((ok) => chat.requested(ok));
    },
    /* chime */ () => {
      try {
        audio ||= new AudioContext();
        const o = audio.createOscillator(), g = audio.createGain(), t = audio.currentTime;
        o.frequency.value = 880;
        g.gain.setValueAtTime(0.0001, t);
        g.gain.exponentialRampToValueAtTime(0.08, t + 0.02);
        g.gain.exponentialRampToValueAtTime(0.0001, t + 0.25);
        o.connect(g).connect(audio.destination);
        o.start(t);
        o.stop(t + 0.3);
      } catch (e) {}
    },
    /* ui */ () => {},
    // A branch card's rule, decided by the page's targeting module (its `judge`; core.js hands
    // the module over): the chat module has no targeting code. One not decided is false, said once.
    // It must not throw: the chat module is in the middle of a step when it asks.
    /* judge */ (q) => {
      let r = 2;
      try { if (ctx.targeting) r = ctx.targeting.judge(q); } catch (e) {}
      if (r > 1 && !unread) { unread = true; console.warn('dynchat: a branch rule could not be decided; it does not match'); }
      return r & 1;
    },
  ];
  const flow = arm?.flow || entry.flow;
  if (!flow) throw new Error('dynchat: the API sent no compiled flow');
  chat = create(host, cfg, jstr(flow), entry.hash, ctx.saved, session, jstr(ctx.known || {}), lang, text, ctx.css);
  // core.js calls open, close and identify; tests status.
  return { get session() { return session; }, variant, ...chat };
}
