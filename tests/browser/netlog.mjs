// Request log for the browser suites: every request of every page of a browser context, with its
// start, response, finish and failure times, so a failing check can say which request hung.
//   const net = netlog();            // one per suite
//   net.watch(ctx);                  // in newPage, for every context
//   net.mark();                      // when a check starts
//   net.report(name)                 // when it fails: prints pending, failed and slow requests
//                                    // since the mark and writes them all to target/browser-net/
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const iso = (t) => (t ? new Date(t).toISOString().slice(11, 23) : '-');

export function netlog(root, suite) {
  const all = [];
  let since = Date.now();
  const dir = join(root, 'target/browser-net');
  function watch(ctx) {
    const byReq = new Map();
    ctx.on('request', (r) => {
      const e = { url: r.url(), method: r.method(), type: r.resourceType(), start: Date.now(), response: 0, end: 0, status: 0, failure: '' };
      byReq.set(r, e);
      all.push(e);
    });
    ctx.on('response', (res) => { const e = byReq.get(res.request()); if (e) { e.response = Date.now(); e.status = res.status(); } });
    ctx.on('requestfinished', (r) => { const e = byReq.get(r); if (e) e.end = Date.now(); });
    ctx.on('requestfailed', (r) => { const e = byReq.get(r); if (e) { e.end = Date.now(); e.failure = (r.failure() || {}).errorText || 'failed'; } });
  }
  const line = (e, now) => {
    const took = (e.end || now) - e.start;
    const state = e.failure ? `FAILED ${e.failure}` : e.end ? `${e.status}` : e.response ? `${e.status} body pending` : 'PENDING (no response)';
    return `  ${iso(e.start)} +${String(took).padStart(6)} ms  ${state.padEnd(22)} ${e.method} ${e.url.slice(0, 160)} [${e.type}] response ${iso(e.response)} end ${iso(e.end)}`;
  };
  return {
    watch,
    mark() { since = Date.now(); },
    /// Prints the pending and failed requests (and any slower than 5 s) since the last mark; writes
    /// every request since the mark as JSON. Returns the file path.
    report(name) {
      const now = Date.now();
      const mine = all.filter((e) => e.start >= since);
      const bad = mine.filter((e) => !e.end || e.failure || e.end - e.start > 5000);
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `${suite}-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.json`);
      writeFileSync(file, JSON.stringify({ since: new Date(since).toISOString(), now: new Date(now).toISOString(), requests: mine }, null, 1));
      console.log(`  browser requests since the check started (${iso(since)} UTC): ${mine.length}, ${mine.filter((e) => !e.end).length} pending, ${mine.filter((e) => e.failure).length} failed; all in ${file}`);
      for (const e of bad.slice(-40)) console.log(line(e, now));
      return file;
    },
  };
}
