// dynchat loader core: storage under consent, page context, targeting, lazy chat, events and the lead outbox.
// Shared by the script-tag loader (loader.js) and the npm package (npm.js). Kept small: it runs on every page.
// `assets`: `targeting()` (a promise of the targeting module's wasm Response; its glue is bundled
// here) and `chat()` (a promise of the chat module, instantiated).
import { targeting } from 'dynchat-targeting-glue';

const NAMES = ['triggered', 'engaged', 'completed', 'closed', 'email', 'phone', 'meeting-booked', 'goal', 'lead-refused'];

export function createDynchat(assets) {
  // Unset flags and objects start undefined (false, none).
  let site, api, sapi, needConsent, consented, bundle, chat, chatP, chatM, pendingOpen, flushing, preview, fac, facEntry, sess;
  let known = {}, activity = {}, evTimer = 0, visitor = '', retries = 0;
  const mem = new Map(), listeners = {}, events = [];

  // ---- storage: memory always, localStorage only when allowed ----
  const key = (k) => `dynchat:${site}:${k}`;
  const allowed = () => !preview && (!needConsent || consented);
  const store = {
    get(k) {
      if (mem.has(k)) return mem.get(k);
      if (allowed()) try { const v = localStorage.getItem(key(k)); if (v != null) mem.set(k, v); return v; } catch (e) {}
      return null;
    },
    set(k, v) { mem.set(k, v); if (allowed()) try { localStorage.setItem(key(k), v); } catch (e) {} },
    del(k) { mem.delete(k); try { localStorage.removeItem(key(k)); } catch (e) {} },
  };
  const jstr = JSON.stringify;
  const json = (s, d) => { try { return JSON.parse(s) ?? d; } catch (e) { return d; } };
  const uuid = () => (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2));

  // ---- browser events ----
  function emit(name, detail) {
    document.dispatchEvent(new CustomEvent('dynchat:' + name, { detail }));
    for (const fn of listeners[name] || []) try { fn(detail); } catch (e) { setTimeout(() => { throw e; }); }
  }

  // ---- network ----
  // A draft preview (console editor) sends nothing: no events, leads or traits.
  const post = (path, body, headers) => preview ? Promise.resolve(new Response('{}', { status: 202 })) : fetch(sapi + path, {
    method: 'POST', keepalive: body.length < 60000, headers: { 'content-type': 'application/json', ...headers }, body,
  });
  function track(e) {
    events.push(typeof e === 'string' ? json(e, {}) : e);
    if (events.length >= 50) flushEvents(); else if (!evTimer) evTimer = setTimeout(flushEvents, 1500);
  }
  function flushEvents() {
    clearTimeout(evTimer); evTimer = 0;
    while (events.length) {
      const batch = events.splice(0, 100);
      post('/events', jstr({ visitor, session: chat ? chat.session : sess, events: batch })).catch(() => {});
    }
  }
  // Leads wait in the outbox (persisted once consent allows) until the worker answers 2xx, same key on every retry.
  const outbox = () => json(store.get('outbox'), []);
  function queueLead(k, body) {
    const b = json(body, {});
    b.visitor = visitor;
    const trk = document.cookie.match(/(?:^|; )_mkto_trk=([^;]*)/);
    if (trk) b.mkto_trk = decodeURIComponent(trk[1]);
    store.set('outbox', jstr([...outbox().filter((x) => x.key !== k), { key: k, body: jstr(b) }]));
    remember(b.fields);
    flushLeads();
  }
  // What the visitor typed into a capture (or the site passed to identify) is known on the next
  // page too, for `lead.*` rules: in memory, and in storage only when storage is allowed (consent).
  function remember(fields) {
    if (!fields || typeof fields !== 'object') return;
    known = { ...known, ...fields };
    if (site) store.set('lead', jstr({ ...json(store.get('lead'), {}), ...fields }));
  }
  async function flushLeads() {
    if (flushing || !site) return;
    flushing = true;
    let failed = false;
    for (const item of outbox()) {
      try {
        const r = await post('/leads', item.body, { 'idempotency-key': item.key });
        if (r.status >= 500 || r.status === 429 || r.status === 408) { failed = true; break; }
        // 2xx: stored by the worker. Another 4xx can never succeed: it leaves the outbox, but it is
        // reported (console error + `lead-refused` event with the worker's message), never swallowed.
        if (r.status >= 400) {
          const j = json(await r.text().catch(() => ''), {});
          const detail = { status: r.status, key: item.key, error: j.error || null };
          console.error('dynchat: the lead was refused by the API (' + r.status + '): ' + (j.error?.message || ''));
          emit('lead-refused', detail);
        }
        store.set('outbox', jstr(outbox().filter((x) => x.key !== item.key)));
      } catch (e) { failed = true; break; }
    }
    flushing = false;
    if (failed && retries < 6) setTimeout(flushLeads, 2000 * 2 ** retries++);
  }

  // ---- page context ----
  function page() {
    const w = innerWidth, coarse = matchMedia('(pointer:coarse)').matches;
    let v = json(store.get('visits'), { n: 0, t: 0 });
    if (Date.now() - v.t > 1800000) v.n++;
    v.t = Date.now();
    store.set('visits', jstr(v));
    // Text is lower-cased here (full Unicode); the targeting module folds only common letters itself.
    // Left out: `company`, `time_on_page_s`, `scroll_depth_pct`, `exit_intent` (the module reads a
    // missing key as empty, 0, false; `update` sends the dynamic signals).
    const lc = (x) => String(x).toLowerCase(), lead = {};
    for (const k in known) lead[k] = lc(known[k]);
    return {
      url: lc(location.href), title: lc(document.title), referrer: lc(document.referrer), visits: v.n,
      device: coarse && w < 768 ? 'mobile' : coarse && w < 1200 ? 'tablet' : 'desktop',
      country: bundle.country || '', now_ms: Date.now(), tz_offset_minutes: -new Date().getTimezoneOffset(),
      lead, activity,
    };
  }

  // ---- chat ----
  function mount(entry, saved) {
    if (chatP) return chatP;
    // The chat asks the targeting module to decide branch cards: mounted with both.
    // The bundle has what targeting reads of each dialogue: the whole version (its compiled flow)
    // comes by its content hash (immutable, cached), with the chat module.
    chatP = Promise.all([loadChat(), variantOf(entry), loadTargeting().catch(loadTargeting).catch(() => null), entry.flow ? entry : version(entry.hash)]).then(async ([m, variant, t, e]) => {
      chat = await m.mount({
        config: bundle.config || {}, css: bundle.launcher?.css, entry: e, saved, known, api, site, visitor, store, track, emit, queueLead, preview: !!preview,
        session: saved ? '' : sess, variant, targeting: t,
      });
      if (fac) fac();
      else if (!saved) shown(entry, chat.variant);
      if (pendingOpen) chat.open();
      return chat;
    }, (e) => { chatP = chatM = 0; throw e; }); // a failed load or mount is tried again on the next need
    return chatP;
  }

  // An experiment: the worker tells the visitor's variant (engine `experiment::assign` on the
  // visitor id; cached by the browser), asked once per entry, when its launcher shows or its chat
  // mounts (while the chat module loads); '' without an experiment or an answer.
  const variantOf = (e) => e.experiment && !preview ? (e.v ||= fetch(`${sapi}/flows/${e.hash}/variant?visitor=${encodeURIComponent(visitor)}`).then((r) => r.json()).then((j) => j.variant || '', () => '')) : '';

  function shown(entry, variant) {
    const seen = json(store.get('seen'), {});
    const s = seen[entry.id] || { shown: 0 };
    seen[entry.id] = { ...s, shown: s.shown + 1, last_shown_ms: Date.now() };
    store.set('seen', jstr(seen));
    const v = variant ? { variant } : {};
    track({ type: 'triggered', dialogue: entry.id, hash: entry.hash, ...v, at: Date.now() });
    emit('triggered', { dialogue: entry.id, hash: entry.hash, ...v });
  }

  // The launcher first: when a dialogue matches, the launcher and the welcome bubble as the worker
  // resolved them (`bundle.launcher`: the chat module's own markup and stylesheet head, engine
  // `launcher`), and the chat module only on intent (the pointer on them, focus, a press; the API's
  // `open`). The chat draws the same and `fac` swaps it in, in one task: a click made meanwhile is
  // made again on the chat's own button, focus moves to it, and not while the pointer is down (the
  // chat's host stays hidden meanwhile, so the release lands on the loader's). The session id is
  // made at start: `triggered` is sent before the chat exists, under the session the chat then uses.
  function facade(entry) {
    const L = bundle.launcher, host = document.createElement('div'), r = host.attachShadow({ mode: 'open' }), css = new CSSStyleSheet();
    let down = 0, clicked = '';
    host.id = 'dynchat-widget';
    for (const k of ['data-theme', 'data-side', 'lang', 'dir']) host.setAttribute(k, L[k]);
    css.replaceSync(L.css);
    r.adoptedStyleSheets = [css];
    r.innerHTML = L.html; // a new conversation's: the bubble shown
    const go = () => chatP || mount(entry, null).catch((e) => console.warn(String(e)));
    const up = () => setTimeout(() => { down = 0; if (chat && fac) fac(); });
    for (const k of ['pointerover', 'focusin']) r.addEventListener(k, go);
    r.addEventListener('pointerdown', () => {
      down = 1; go();
      for (const k of ['pointerup', 'pointercancel']) addEventListener(k, up, { once: true, capture: true });
    });
    r.addEventListener('click', (e) => {
      const b = e.target.closest('button');
      if (!b) return;
      clicked = b.className;
      if (clicked === 'x') r.firstChild.hidden = true;
      go();
    });
    fac = () => {
      const c = [...document.querySelectorAll('#dynchat-widget')].pop(); // the chat's host, appended last
      c.style.visibility = down ? 'hidden' : '';
      if (down) return;
      const f = r.activeElement;
      host.remove();
      fac = 0;
      const n = c.shadowRoot, q = (c) => n.querySelector('.' + c);
      q('poke').getAnimations().forEach((a) => a.finish()); // the bubble was there already: it does not rise again (its own only: finishing an endless one throws)
      if (f) q(f.className).focus();
      if (clicked) q(clicked).click();
    };
    facEntry = entry;
    document.body.append(host);
    // `triggered` names an experiment's variant: sent when the worker answered which.
    if (entry.experiment) variantOf(entry).then((v) => shown(entry, v)); else shown(entry);
  }

  // One published version, the whole entry (id, hash, flow, experiment).
  const version = (hash) => fetch(`${sapi}/flows/${encodeURIComponent(hash)}`).then((r) => {
    if (!r.ok) throw new Error('dynchat: flow ' + r.status);
    return r.json();
  });

  async function resume(saved) {
    const s = json(saved, null), sess = s && json(s.session, null);
    if (!sess || sess.status !== 'active') return false;
    // A session pins its flow version: load exactly that one, even if a newer one is published.
    await mount(await version(s.hash), saved);
    return true;
  }

  // The chat module loads once, as soon as it will probably be needed (a conversation resumes, or
  // a watched rule can still fire on this page), so the launcher does not wait for it then.
  const loadChat = () => chatM || (chatM = assets.chat());
  // The targeting module loads once: it selects the dialogue and decides the chat's branch cards.
  let targetingM;
  // A failed load is forgotten, so the next need tries again (the chat retries once at mount).
  const loadTargeting = () => targetingM || (targetingM = targeting(assets.targeting()).catch((e) => { targetingM = 0; throw e; }));
  const preloadChat = () => loadChat().catch(() => {});

  function watch(t, w) {
    const start = Date.now();
    let scroll = 0, exit = false, done = false;
    const offs = [];
    const pick = (s, p, x) => json(t.update(s, p, x, Date.now()), {}).dialogue;
    // Without the launcher first (no `launcher.html`: `language: auto`, `auto_open`), the chat
    // module is preloaded when a dialogue would match with every watched signal at its most (a day
    // on the page, scrolled to the end, exit intent); else nothing here can fire. With it, the
    // launcher shows when the rule fires and the chat module loads on intent, as everywhere.
    if (!bundle.launcher?.html && pick(1e5, 100, 1)) preloadChat();
    const check = () => {
      const id = !done && pick((Date.now() - start) / 1000 | 0, scroll, exit);
      if (id) { done = true; offs.forEach((f) => f()); trigger(id); }
    };
    const on = (el, ev, fn) => { el.addEventListener(ev, fn, { passive: true }); offs.push(() => el.removeEventListener(ev, fn)); };
    for (const s of w.time_on_page_s || []) { const t = setTimeout(check, s * 1000 + 50); offs.push(() => clearTimeout(t)); }
    if ((w.scroll_depth_pct || []).length) on(window, 'scroll', () => {
      const h = document.documentElement.scrollHeight - innerHeight;
      const p = h > 0 ? Math.round((scrollY / h) * 100) : 100;
      if (p > scroll) { scroll = p; if (w.scroll_depth_pct.some((x) => x <= p)) check(); }
    });
    if (w.exit_intent) on(document, 'mouseout', (e) => { if (!e.relatedTarget && e.clientY <= 0 && !exit) { exit = true; check(); } });
  }

  function trigger(id) {
    if (chatP || fac) return; // the chat (open() came first) or the launcher is there already
    const entry = (bundle.dialogues || []).find((d) => d.id === id);
    // open() asked before the bundle came: the chat itself, opened.
    if (entry) (bundle.launcher?.html && !preview && !pendingOpen ? facade : mount)(entry, null);
  }

  async function start() {
    visitor = store.get('visitor');
    if (!visitor) store.set('visitor', (visitor = uuid()));
    sess = uuid(); // a new conversation's (a resumed one keeps its own)
    known = { ...json(store.get('lead'), {}), ...known };
    flushLeads();
    // The targeting module downloads and compiles while the bundle is on its way; when a stored
    // conversation is about to resume, the chat module too (the chat needs both: the targeting
    // module decides its branch cards).
    const saved = json(store.get('chat'), null);
    const resuming = saved && json(saved.session, {}).status === 'active';
    loadTargeting().catch(() => {});
    if (resuming) preloadChat();
    // A bundle without `launcher` (an older copy in the HTTP cache) is asked again past the cache,
    // once: the chat takes its stylesheet's head from it.
    for (let i = 0; i < 2 && !bundle?.launcher; i++) {
      const r = await fetch(sapi + '/bundle', i ? { cache: 'no-cache' } : {});
      if (!r.ok) throw new Error('dynchat: bundle ' + r.status);
      bundle = json(await r.text(), {});
      bundle.country = r.headers.get('x-dynchat-country') || '';
    }
    if (bundle.config?.consent_required) setNeedConsent();
    if (preview) { bundle.dialogues = [preview]; pendingOpen = true; trigger(preview.id); return; }
    if (await resume(store.get('chat')).catch(() => false)) return;
    await lookupTraits();
    const m = await loadTargeting();
    // The bundle's entries as they came: the targeting module reads each one's `id`, `priority` and
    // `targeting` (a whole entry's `flow`: an older cached copy) and leaves out what it cannot read.
    const t = m.Targeter(jstr({ dialogues: bundle.dialogues }));
    const sel = json(t.select(jstr(page()), store.get('seen') || '{}'), {});
    if (sel.skipped?.length) console.warn('dynchat: left out, unreadable in the browser: ' + sel.skipped.join(', '));
    if (sel.dialogue) trigger(sel.dialogue);
    else if (sel.watch) watch(t, sel.watch);
  }

  // Known visitors: ask the worker for the lead fields the site's rules use (Marketo cookie or typed email).
  async function lookupTraits() {
    const fields = bundle.lead_fields || [];
    if (!fields.length) return; // no rule reads lead fields: no cookie read (a synchronous IPC)
    const trk = document.cookie.match(/(?:^|; )_mkto_trk=([^;]*)/);
    if (!(trk || known.email)) return;
    try {
      const r = await post('/traits', jstr({ mkto_trk: trk ? decodeURIComponent(trk[1]) : undefined, email: known.email, fields }));
      const j = r.ok ? await r.json() : {};
      if (j.lead) known = { ...j.lead, ...known };
      if (j.activity) activity = j.activity; // last time (ms) per activity.<type>
    } catch (e) {}
  }

  // The console's editor frames a demo page with `dynchat-preview=draft` and offers the draft's compiled
  // flow as `dynchatPreview` on its own window; a cross-origin parent cannot (reading it throws).
  function draftPreview() {
    // (A string search first: a regular expression is compiled on its first use, on every page.)
    if (!location.search.includes('dynchat-preview=draft') || !/[?&]dynchat-preview=draft(&|$)/.test(location.search) || window.parent === window) return null;
    try {
      const d = json(window.parent.dynchatPreview, null);
      return d && d.id && d.hash && d.flow ? d : null;
    } catch (e) { return null; }
  }

  function setNeedConsent() {
    if (needConsent) return;
    needConsent = true;
    try { consented = localStorage.getItem(key('consent')) === '1'; } catch (e) {}
  }

  const api_ = {
    init(o) {
      if (site) return api_;
      o = o || {};
      site = o.site; api = String(o.endpoint || '');
      if (api.endsWith('/')) api = api.slice(0, -1);
      sapi = `${api}/v1/sites/${encodeURIComponent(site)}`; // every request's prefix
      preview = draftPreview();
      if (o.consent === 'required' || o.consent === false) setNeedConsent();
      addEventListener('pagehide', flushEvents);
      document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden') flushEvents(); });
      addEventListener('online', flushLeads);
      api_.ready = start().catch((e) => console.warn(String(e)));
      return api_;
    },
    open() {
      pendingOpen = true;
      if (chat) chat.open();
      else if (bundle?.dialogues?.[0]) mount(facEntry || bundle.dialogues[0], null);
    },
    close() { pendingOpen = false; if (chat) chat.close(); },
    on(name, fn) { if (NAMES.includes(name)) (listeners[name] = listeners[name] || []).push(fn); return api_; },
    off(name, fn) { listeners[name] = (listeners[name] || []).filter((f) => f !== fn); return api_; },
    identify(fields) {
      remember(fields);
      if (chat) chat.identify(jstr(fields));
    },
    consent(yes) {
      consented = !!yes;
      if (!needConsent) return;
      if (consented) {
        // Everything so far lived in memory: write it now.
        for (const [k, v] of mem) try { localStorage.setItem(key(k), v); } catch (e) {}
        try { localStorage.setItem(key('consent'), '1'); } catch (e) {}
      } else {
        try { for (const k of Object.keys(localStorage)) if (k.startsWith(`dynchat:${site}:`)) localStorage.removeItem(k); } catch (e) {}
      }
    },
  };
  return api_;
}
