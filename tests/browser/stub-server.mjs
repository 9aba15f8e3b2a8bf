// A small stand-in for the dynchat worker (docs/api.md), used by the browser tests until the real worker exists.
// It serves dist/ as static assets at the same origin as the API, like the worker. Binds 127.0.0.1 only.
import { createServer } from 'node:http';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, existsSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, normalize, extname } from 'node:path';

const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html; charset=utf-8', '.css': 'text/css', '.json': 'application/json', '.svg': 'image/svg+xml' };
const sha = (s) => createHash('sha256').update(s).digest('hex');

// The compiled flow (wire form) the worker ships next to each dialogue, made by the same engine
// through the CLI: `dynchat compile -` (built here once; DYNCHAT_CLI names another binary).
function compiler(root) {
  let cli = process.env.DYNCHAT_CLI;
  if (!cli) {
    execFileSync('cargo', ['build', '-q', '-p', 'dynchat-cli'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    cli = join(root, 'target/debug/dynchat');
  }
  const done = new Map();
  const run = (cmd) => (text) => {
    if (!done.has(cmd + text)) done.set(cmd + text, JSON.parse(execFileSync(cli, [cmd, '-'], { input: text, stdio: ['pipe', 'pipe', 'inherit'] }).toString()));
    return done.get(cmd + text);
  };
  // The bundle's `launcher` for a site config (what the worker adds: `dynchat launcher -`).
  return Object.assign(run('compile'), { launcher: run('launcher') });
}

/** The fixture sites of a JSON file, with each card that has `repeat: n` written out as a chain of
 *  n cards (`id`, `id-2` .. `id-n`, text followed by the card's number), so a long dialogue stays short. */
export function readFixtures(path) {
  const sites = JSON.parse(readFileSync(path, 'utf8'));
  for (const s of Object.values(sites)) for (const d of s.dialogues) {
    d.cards = d.cards.flatMap(({ repeat, ...c }) => !repeat ? [c] : Array.from({ length: repeat }, (_, i) =>
      ({ ...c, id: i ? `${c.id}-${i + 1}` : c.id, text: `${c.text} ${i + 1}`, next: i + 1 < repeat ? `${c.id}-${i + 2}` : c.next })));
  }
  return sites;
}

export function createStub({ root, fixtures, dist = join(root, 'dist') }) {
  const sites = readFixtures(fixtures);
  const compile = compiler(root);
  const original = Object.fromEntries(Object.entries(sites).map(([k, s]) => [k, JSON.parse(JSON.stringify(s.config || {}))]));
  let st, cfg;
  const reset = () => {
    st = { events: [], leads: new Map(), leadAttempts: [], meetings: new Map(), requests: new Map(), booked: new Set(), flows: new Map(), bundleRequests: [], flowRequests: [] };
    cfg = { noSlots: false, video: null, failRequests: false, dropNextLeadResponse: false, country: 'NL', slotStarts: null };
    for (const [site, s] of Object.entries(sites)) s.config = JSON.parse(JSON.stringify(original[site]));
    for (const [site, s] of Object.entries(sites)) for (const d of s.dialogues) publish(site, d);
  };
  const published = {}; // site -> id -> current hash
  // `test_nest_audience: n` (stub fixtures only) serves a dialogue the worker would never publish:
  // its audience, authored and compiled, wrapped in n more nested groups (`too_deep` in compile).
  function publish(site, fixture) {
    const { test_nest_audience: nest = 0, ...dialogue } = fixture;
    const flow = compile(JSON.stringify(dialogue));
    for (let i = 0; i < nest; i++) {
      flow.audience = { all: [{ Group: flow.audience }], any: [] };
      dialogue.audience = { all: [dialogue.audience] };
    }
    const hash = flow.hash;
    st.flows.set(`${site}/${hash}`, { id: dialogue.id, hash, dialogue, flow });
    (published[site] = published[site] || {})[dialogue.id] = hash;
    return hash;
  }
  reset();

  const send = (res, status, body, headers = {}) => {
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(text);
  };
  const error = (res, status, code, message, field) => send(res, status, { error: { code, message, ...(field ? { field } : {}) } });
  const readBody = (req) => new Promise((ok) => { const c = []; req.on('data', (d) => c.push(d)); req.on('end', () => ok(Buffer.concat(c).toString())); });
  const jsonBody = (res, req, text, limit) => {
    if (text.length > limit) { error(res, 413, 'too_large', 'body over the limit'); return null; }
    if (!/application\/json/.test(req.headers['content-type'] || '')) { error(res, 415, 'not_json', 'send JSON'); return null; }
    try { return JSON.parse(text); } catch (e) { error(res, 400, 'bad_json', 'invalid JSON'); return null; }
  };

  function slots(tz, days) {
    if (cfg.noSlots) return [];
    const label = (s) => s.toLocaleString('en-GB', { timeZone: tz, weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
    // Starts set through /_stub/config (30 minutes each), e.g. in a night the clocks go back.
    if (cfg.slotStarts) return cfg.slotStarts.map((t) => { const s = new Date(t); return { start: s.toISOString(), end: new Date(+s + 1800000).toISOString(), label: label(s) }; });
    const out = [];
    const start = new Date(); start.setUTCHours(0, 0, 0, 0);
    for (let d = 1; out.length < 40 && d <= days; d++) {
      const day = new Date(+start + d * 86400000);
      if (day.getUTCDay() === 0 || day.getUTCDay() === 6) continue;
      for (const h of [8, 9, 10, 13, 14, 15]) {
        const s = new Date(+day + h * 3600000), e = new Date(+s + 1800000);
        if (st.booked.has(s.toISOString())) continue;
        out.push({ start: s.toISOString(), end: e.toISOString(), label: s.toLocaleString('en-GB', { timeZone: tz, weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }) });
      }
    }
    return out;
  }

  async function api(req, res, url) {
    const m = url.pathname.match(/^\/v1\/sites\/([^/]+)\/([a-z]+)(?:\/([^/]+))?$/);
    if (!m) return error(res, 404, 'not_found', 'no such route');
    const [, site, what, arg] = m;
    const s = sites[site];
    if (!s) return error(res, 404, 'unknown_site', 'unknown site');
    if (what === 'bundle' && req.method === 'GET') {
      st.bundleRequests.push(Date.now());
      const dialogues = s.dialogues.map((d) => { const f = st.flows.get(`${site}/${published[site][d.id]}`); return { id: f.id, hash: f.hash, priority: f.dialogue.priority || 0, targeting: { audience: f.flow.audience, display: f.flow.display, priority: f.flow.priority } }; }); // as the worker: what targeting reads (engine FLOW_TARGETING_KEYS); the whole version from /flows/{hash}
      const launcher = compile.launcher(JSON.stringify(s.config || {}));
      const body = JSON.stringify({ site, etag: '', config: s.config, dialogues, lead_fields: s.lead_fields || [], launcher });
      const etag = `"${sha(body).slice(0, 20)}"`;
      const h = { etag, 'cache-control': 'public, max-age=60', 'x-dynchat-country': cfg.country };
      if (req.headers['if-none-match'] === etag) { res.writeHead(304, h); return res.end(); }
      res.writeHead(200, { 'content-type': 'application/json', ...h });
      return res.end(body);
    }
    if (what === 'flows' && req.method === 'GET') {
      st.flowRequests.push(arg);
      const f = st.flows.get(`${site}/${arg}`);
      return f ? send(res, 200, f, { 'cache-control': 'public, max-age=31536000, immutable' }) : error(res, 404, 'unknown_flow', 'no such version');
    }
    if (what === 'traits' && req.method === 'POST') return send(res, 200, { known: false, lead: {}, company: {} });
    if (what === 'slots' && req.method === 'GET') {
      const tz = url.searchParams.get('tz') || 'UTC';
      return send(res, 200, { tz, slots: slots(tz, Math.min(+url.searchParams.get('days') || 14, 60)), unknown_agents: [] });
    }
    if (req.method !== 'POST') return error(res, 405, 'method', 'method not allowed');
    const text = await readBody(req);
    const body = jsonBody(res, req, text, 65536);
    if (!body) return;
    if (what === 'events') {
      if (!Array.isArray(body.events) || body.events.length > 100) return error(res, 400, 'bad_field', 'events must be a list of at most 100', 'events');
      const types = ['triggered', 'engaged', 'completed', 'dropped', 'answer', 'goal', 'document_opened', 'closed'];
      const bad = body.events.findIndex((e) => !types.includes(e.type));
      if (bad >= 0) return error(res, 400, 'bad_field', 'unknown event type', `events[${bad}].type`);
      // Like the worker (validate.rs `id_at`): the visitor and session ids are required.
      for (const k of ['visitor', 'session']) if (!/^[A-Za-z0-9_-]{1,64}$/.test(body[k] || '')) return error(res, 400, 'bad_field', k + ' must be an id', k);
      for (const e of body.events) st.events.push({ ...e, visitor: body.visitor, session: body.session, site });
      return send(res, 202, { accepted: body.events.length });
    }
    const key = req.headers['idempotency-key'] || '';
    if (key.length < 8 || key.length > 128) return error(res, 400, 'bad_field', 'Idempotency-Key must be 8-128 characters', 'Idempotency-Key');
    if (what === 'leads') {
      st.leadAttempts.push(key);
      const prev = st.leads.get(key);
      if (prev) return prev.text === text ? send(res, 200, prev.answer) : error(res, 409, 'idempotency_conflict', 'same key, different body');
      if (!body.fields || !body.fields.email) return error(res, 400, 'bad_field', 'email is required', 'fields.email');
      if (Array.isArray(body.transcript) && body.transcript.length > 500) return error(res, 400, 'bad_field', 'at most 500 lines', 'transcript');
      // The site's email-domain blocklist (docs/api.md): 422 naming the field, nothing stored.
      const domain = String(body.fields.email).split('@').pop().toLowerCase();
      if ((s.config.email_blocklist || []).some((b) => domain === b || domain.endsWith('.' + b))) return error(res, 422, 'refused_field', 'this email domain is not accepted here; please use your work email', 'fields.email');
      const answer = { lead: randomUUID(), status: 'queued' };
      st.leads.set(key, { text, body, answer, site });
      if (cfg.dropNextLeadResponse) { cfg.dropNextLeadResponse = false; req.socket.destroy(); return; }
      return send(res, 201, answer);
    }
    if (what === 'book') {
      const prev = st.meetings.get(key);
      if (prev) return send(res, 200, prev.answer);
      if (st.booked.has(new Date(body.start).toISOString())) return send(res, 409, { error: { code: 'slot_taken' }, slots: slots(body.tz || 'UTC', 14) });
      st.booked.add(new Date(body.start).toISOString());
      const answer = { meeting: randomUUID(), agent: 'Alice Agent', start: body.start, end: body.end, ...(cfg.video ? { video: cfg.video } : {}) };
      st.meetings.set(key, { body, answer });
      return send(res, 201, answer);
    }
    // The no-slot fallback (docs/api.md): stored once per key; 400 naming the field, as the worker.
    if (what === 'meetings' && arg === 'requests') {
      if (cfg.failRequests) return error(res, 503, 'unavailable', 'try later');
      const prev = st.requests.get(key);
      if (prev) return prev.text === text ? send(res, 200, prev.answer) : error(res, 409, 'idempotency_conflict', 'same key, different body');
      const known = ['route', 'email', 'name', 'preferred', 'days', 'tz', 'reason', 'session', 'dialogue'];
      const extra = Object.keys(body).find((k) => !known.includes(k));
      if (extra) return error(res, 400, 'bad_field', 'unknown field', extra);
      if (typeof body.route !== 'string' || !body.route) return error(res, 400, 'bad_field', 'route is required', 'route');
      if (typeof body.email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(body.email)) return error(res, 400, 'bad_field', 'a valid email is required', 'email');
      if (typeof body.preferred !== 'string' || !body.preferred.trim() || [...body.preferred].length > 1000) return error(res, 400, 'bad_field', '1-1000 characters', 'preferred');
      if (body.reason !== undefined && !['no_slots', 'none_fit'].includes(body.reason)) return error(res, 400, 'bad_field', 'no_slots or none_fit', 'reason');
      const answer = { request: 'r-' + randomUUID(), route: body.route, notified: 1 };
      st.requests.set(key, { text, body, answer });
      return send(res, 201, answer);
    }
    return error(res, 404, 'not_found', 'no such route');
  }

  function statik(req, res, url) {
    const rel = normalize(decodeURIComponent(url.pathname)).replace(/^([/\\])+/, '');
    if (rel.startsWith('..')) return error(res, 404, 'not_found', 'no');
    const file = join(dist, rel);
    if (!existsSync(file) || !statSync(file).isFile()) return error(res, 404, 'not_found', 'no such file');
    // The worker's widget caching (edge-worker/src/widget_files.rs): hashed modules immutable, the loader short + ETag.
    const body = readFileSync(file);
    const etag = `"${sha(body.toString('latin1')).slice(0, 20)}"`;
    const cache = /\.[0-9a-f]{8}\.(js|wasm|json)$/.test(rel) ? 'public, max-age=31536000, immutable' : rel.endsWith('loader.js') ? 'public, max-age=300' : 'no-cache';
    const h = { 'content-type': TYPES[extname(file)] || 'application/octet-stream', 'cache-control': cache, etag, 'access-control-allow-origin': '*' };
    if (req.headers['if-none-match'] === etag) { res.writeHead(304, h); return res.end(); }
    res.writeHead(200, h);
    res.end(body);
  }

  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const origin = req.headers.origin;
    if (origin) { res.setHeader('access-control-allow-origin', origin); res.setHeader('vary', 'Origin'); res.setHeader('access-control-expose-headers', 'ETag, X-Dynchat-Country'); }
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { 'access-control-allow-methods': 'GET, POST, OPTIONS', 'access-control-allow-headers': 'content-type, idempotency-key, if-none-match', 'access-control-max-age': '600' });
      return res.end();
    }
    try {
      if (url.pathname === '/health') return send(res, 200, { ok: true, version: 'stub' });
      if (url.pathname === '/_stub/reset' && req.method === 'POST') { reset(); return send(res, 200, { ok: true }); }
      if (url.pathname === '/_stub/config' && req.method === 'POST') { Object.assign(cfg, JSON.parse(await readBody(req) || '{}')); return send(res, 200, cfg); }
      if (url.pathname === '/_stub/site-config' && req.method === 'POST') { const b = JSON.parse(await readBody(req)); sites[b.site].config = b.config; return send(res, 200, { ok: true }); }
      if (url.pathname === '/_stub/publish' && req.method === 'POST') { const b = JSON.parse(await readBody(req)); return send(res, 200, { hash: publish(b.site, b.dialogue) }); }
      if (url.pathname === '/_stub/state') return send(res, 200, { events: st.events, leads: [...st.leads].map(([key, l]) => ({ key, ...l.body })), leadAttempts: st.leadAttempts, meetings: [...st.meetings].map(([key, m]) => ({ key, ...m.body, ...m.answer })), requests: [...st.requests].map(([key, r]) => ({ key, ...r.body })), bundleRequests: st.bundleRequests.length, flowRequests: st.flowRequests, published });
      if (url.pathname.startsWith('/v1/')) return await api(req, res, url);
      return statik(req, res, url);
    } catch (e) {
      return error(res, 500, 'internal', String(e));
    }
  });
  return {
    listen: (port = 0) => new Promise((ok) => server.listen(port, '127.0.0.1', () => ok(`http://127.0.0.1:${server.address().port}`))),
    close: () => new Promise((ok) => { server.closeAllConnections(); server.close(() => ok()); }),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = new URL('../../', import.meta.url).pathname;
  const stub = createStub({ root, fixtures: join(root, 'tests/browser/fixtures/sites.json') });
  stub.listen(+(process.argv[2] || 8788)).then((u) => console.log(`dynchat stub API on ${u}`));
}
