//! Load benchmarks on the real worker (ignored by `cargo test`; `cargo xtask bench` runs them with `--ignored`):
//! ingestion latency at 100 concurrent requests next to `/health`, and Marketo forwarding under a lead backlog.
//! They print `BENCH <figure> | <value> | <target>` lines and assert nothing about speed.

use dynchat_e2e::{demo_dialogue, serial, site_settings, Peer, Worker};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CONCURRENCY: usize = 100;

fn param(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Runs `per_thread` requests on each of 100 threads; returns (latencies ms sorted, seconds, non-2xx count).
fn hammer(
    per_thread: usize,
    make: Arc<dyn Fn(usize, usize) -> ureq::Request + Send + Sync>,
    body: Arc<dyn Fn(usize, usize) -> Option<String> + Send + Sync>,
) -> (Vec<f64>, f64, usize) {
    hammer_with(CONCURRENCY, per_thread, make, body)
}

/// Runs `per_thread` requests on each of `threads` threads; returns (latencies ms sorted, seconds, non-2xx count).
fn hammer_with(
    threads: usize,
    per_thread: usize,
    make: Arc<dyn Fn(usize, usize) -> ureq::Request + Send + Sync>,
    body: Arc<dyn Fn(usize, usize) -> Option<String> + Send + Sync>,
) -> (Vec<f64>, f64, usize) {
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let make = make.clone();
            let body = body.clone();
            std::thread::spawn(move || {
                let mut lat = Vec::with_capacity(per_thread);
                let mut bad = 0;
                for i in 0..per_thread {
                    let req = make(t, i).timeout(Duration::from_secs(60));
                    let t0 = Instant::now();
                    let res = match body(t, i) {
                        Some(b) => req.send_string(&b),
                        None => req.call(),
                    };
                    let ok = match res {
                        Ok(r) => {
                            let _ = r.into_string();
                            true
                        }
                        Err(ureq::Error::Status(_, r)) => {
                            let _ = r.into_string();
                            false
                        }
                        Err(_) => false,
                    };
                    lat.push(t0.elapsed().as_secs_f64() * 1000.0);
                    if !ok {
                        bad += 1;
                    }
                }
                (lat, bad)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut bad = 0;
    for h in handles {
        if let Ok((l, b)) = h.join() {
            all.extend(l);
            bad += b;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    all.sort_by(|a, b| a.total_cmp(b));
    (all, secs, bad)
}

fn print(figure: &str, value: String, target: &str) {
    println!("BENCH {figure} | {value} | {target}");
}

#[test]
#[ignore = "benchmark: run by cargo xtask bench"]
fn bench_ingestion_next_to_health() {
    let _g = serial();
    let w = Worker::start(
        "bench-ingest",
        None,
        &[
            ("RATE_IP_PER_MINUTE", "100000000"),
            ("RATE_SITE_PER_MINUTE", "100000000"),
        ],
    );
    let flows = w.site("bench", site_settings(None), &[&demo_dialogue("bench-d")]);
    let (dialogue, hash) = flows.first().cloned().unwrap_or_default();
    let per = param("BENCH_REQUESTS_PER_THREAD", 20);
    let agent = ureq::AgentBuilder::new()
        .max_idle_connections_per_host(CONCURRENCY)
        .build();
    // Warm-up: the first requests compile the isolate.
    for _ in 0..20 {
        let _ = agent.get(&w.url("/health")).call();
    }
    let a1 = agent.clone();
    let health_url = w.url("/health");
    let (h, hs, hbad) = hammer(
        per,
        Arc::new(move |_, _| a1.get(&health_url)),
        Arc::new(|_, _| None),
    );
    let a2 = agent.clone();
    let ev_url = w.url("/v1/sites/bench/events");
    const EVENTS_PER_BATCH: usize = 5;
    let (e, es, ebad) = hammer(
        per,
        Arc::new(move |_, _| {
            a2.post(&ev_url)
                .set("Content-Type", "application/json")
                .set("Origin", "http://127.0.0.1:8080")
        }),
        Arc::new(move |t, i| {
            let events: Vec<Value> = (0..EVENTS_PER_BATCH)
                .map(|k| json!({"type": if k == 0 { "triggered" } else { "answer" }, "dialogue": dialogue, "hash": hash, "card": "interest", "value": "pricing", "at": 1_764_000_000_000i64 + (i * 10 + k) as i64}))
                .collect();
            Some(json!({"visitor": format!("v-{t}"), "session": format!("s-{t}-{i}"), "events": events}).to_string())
        }),
    );
    let n = (CONCURRENCY * per) as f64;
    print(
        "worker /health at 100 concurrent: requests/s",
        format!("{:.0}", n / hs),
        "baseline",
    );
    print(
        "worker /health at 100 concurrent: p50 / p99",
        format!(
            "{:.1} / {:.1} ms",
            percentile(&h, 0.5),
            percentile(&h, 0.99)
        ),
        &format!("baseline ({hbad} non-2xx)"),
    );
    print(
        "event ingestion at 100 concurrent: events/s",
        format!(
            "{:.0} ({:.0} batches/s of {EVENTS_PER_BATCH})",
            n * EVENTS_PER_BATCH as f64 / es,
            n / es
        ),
        "report",
    );
    print(
        "event ingestion at 100 concurrent: p50 / p99",
        format!(
            "{:.1} / {:.1} ms",
            percentile(&e, 0.5),
            percentile(&e, 0.99)
        ),
        &format!("p99 within 3x of /health's ({ebad} non-2xx)"),
    );
    print(
        "event ingestion p99 / health p99",
        format!(
            "{:.2}x",
            percentile(&e, 0.99) / percentile(&h, 0.99).max(0.001)
        ),
        "<= 3x",
    );
}

/// Lead capture (`POST /leads`: validation, the idempotency check, D1 before 201) at 16
/// concurrent clients, measured right after `/health` at the same concurrency on the same worker.
#[test]
#[ignore = "benchmark: run by cargo xtask bench"]
fn bench_lead_capture_next_to_health() {
    const CLIENTS: usize = 16;
    let _g = serial();
    let w = Worker::start(
        "bench-leads",
        None,
        &[
            ("RATE_IP_PER_MINUTE", "100000000"),
            ("RATE_SITE_PER_MINUTE", "100000000"),
        ],
    );
    let flows = w.site("bench", site_settings(None), &[&demo_dialogue("bench-d")]);
    let (dialogue, hash) = flows.first().cloned().unwrap_or_default();
    let per = param("BENCH_LEADS_PER_CLIENT", 60);
    let agent = ureq::AgentBuilder::new()
        .max_idle_connections_per_host(CLIENTS)
        .build();
    for _ in 0..20 {
        let _ = agent.get(&w.url("/health")).call();
    }
    // Rounds of /health then leads, so a busy moment of the machine (other processes share its
    // cores) weighs on both figures alike instead of on whichever phase it hit.
    const ROUNDS: usize = 5;
    let per = per.div_ceil(ROUNDS) * ROUNDS;
    let health_url = w.url("/health");
    let url = w.url("/v1/sites/bench/leads");
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let (mut h, mut hs, mut hbad) = (Vec::new(), 0.0, 0);
    let (mut l, mut ls, mut lbad) = (Vec::new(), 0.0, 0);
    // Round 0 warms up (the version's mapping, the rate-limit lease) and is not counted.
    for round in 0..=ROUNDS {
        let a1 = agent.clone();
        let u1 = health_url.clone();
        let (lat, secs, bad) = hammer_with(
            CLIENTS,
            per * 4 / ROUNDS,
            Arc::new(move |_, _| a1.get(&u1)),
            Arc::new(|_, _| None),
        );
        if round > 0 {
            h.extend(lat);
            hs += secs;
            hbad += bad;
        }
        let a2 = agent.clone();
        let u2 = url.clone();
        let (dialogue, hash) = (dialogue.clone(), hash.clone());
        let (lat, secs, bad) = hammer_with(
            CLIENTS,
            per / ROUNDS,
            Arc::new(move |t, i| {
                a2.post(&u2)
                    .set("Content-Type", "application/json")
                    .set("Origin", "http://127.0.0.1:8080")
                    .set(
                        "Idempotency-Key",
                        &format!("bench-capture-{run}-{round}-{t}-{i}"),
                    )
            }),
            Arc::new(move |t, i| {
                Some(json!({"visitor": format!("v-{t}"), "session": format!("s-{round}-{t}-{i}"), "dialogue": dialogue, "hash": hash, "fields": {"email": format!("lead{round}x{t}x{i}@bench.example"), "firstName": "Bench"}, "answers": {"interest": "pricing"}, "transcript": [["bot", "What brings you here?"], ["visitor", "Pricing"]]}).to_string())
            }),
        );
        if round > 0 {
            l.extend(lat);
            ls += secs;
            lbad += bad;
        }
    }
    h.sort_by(f64::total_cmp);
    l.sort_by(f64::total_cmp);
    let health_rps = (CLIENTS * per * 4) as f64 / hs;
    let leads_rps = (CLIENTS * per) as f64 / ls;
    print(
        "worker /health at 16 concurrent: requests/s, p50 / p99",
        format!(
            "{health_rps:.0}/s, {:.1} / {:.1} ms ({hbad} non-2xx)",
            percentile(&h, 0.5),
            percentile(&h, 0.99)
        ),
        "baseline",
    );
    print(
        "lead capture at 16 concurrent: leads/s, p50 / p99",
        format!(
            "{leads_rps:.0}/s, {:.1} / {:.1} ms ({lbad} non-2xx)",
            percentile(&l, 0.5),
            percentile(&l, 0.99)
        ),
        "report",
    );
    print(
        "lead capture throughput / /health throughput",
        format!("1/{:.1}", health_rps / leads_rps.max(0.001)),
        ">= 1/3 (was 1/13)",
    );
    print(
        "lead capture p99 / /health p99",
        format!(
            "{:.2}x",
            percentile(&l, 0.99) / percentile(&h, 0.99).max(0.001)
        ),
        "<= 3x (was 6x)",
    );
}

#[test]
#[ignore = "benchmark: run by cargo xtask bench"]
fn bench_marketo_forwarding_under_backlog() {
    let _g = serial();
    // Marketo's real limits (100 calls / 20 s, 10 in flight) on the peer and in the gate.
    let peer = Peer::start(&[]);
    let w = Worker::start(
        "bench-forward",
        Some(&peer),
        &[
            ("RATE_IP_PER_MINUTE", "100000000"),
            ("RATE_SITE_PER_MINUTE", "100000000"),
            ("MARKETO_BACKOFF_MS", "500"),
        ],
    );
    let flows = w.site("fwd", site_settings(Some(1001)), &[&demo_dialogue("fwd-d")]);
    let (dialogue, hash) = flows.first().cloned().unwrap_or_default();
    // Every lead carries its visitor's Munchkin cookie, so the backlog is leads, program
    // memberships and one cookie association per lead: enough calls to fill Marketo's windows.
    let leads = param("BENCH_LEADS", 3_000);
    let per = leads.div_ceil(CONCURRENCY);
    let agent = ureq::AgentBuilder::new()
        .max_idle_connections_per_host(CONCURRENCY)
        .build();
    let url = w.url("/v1/sites/fwd/leads");
    // The backlog: Marketo is down (HTTP 502 on every call) while the leads arrive.
    peer.config(json!({"fault_rate": 1.0, "fault_kinds": ["502"]}));
    let (_, secs, bad) = hammer(
        per,
        Arc::new(move |t, i| {
            agent
                .post(&url)
                .set("Content-Type", "application/json")
                .set("Origin", "http://127.0.0.1:8080")
                .set("Idempotency-Key", &format!("bench-lead-{t}-{i}"))
        }),
        Arc::new(move |t, i| {
            Some(json!({"visitor": format!("v-{t}"), "session": format!("s-{t}-{i}"), "dialogue": dialogue, "hash": hash, "fields": {"email": format!("lead{t}x{i}@bench.example"), "firstName": "Bench"}, "answers": {"interest": "pricing"}, "mkto_trk": format!("id:123-ABC-456&token:_mch-bench.example-1700000000000-{t}{i:05}")}).to_string())
        }),
    );
    let total = CONCURRENCY * per;
    print(
        "lead capture: leads/s accepted (stored in D1 before 201)",
        format!("{:.0} ({bad} refused)", total as f64 / secs),
        "report",
    );
    // Marketo is back: measure the drain of the backlog.
    peer.config(json!({"fault_rate": 0.0}));
    let recovered = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(param("BENCH_FORWARD_WAIT_S", 300) as u64);
    let mut delivered = 0;
    while Instant::now() < deadline {
        delivered = peer.state()["leads"].as_array().map_or(0, Vec::len);
        if delivered >= total - bad {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let drain = recovered.elapsed().as_secs_f64();
    // Cookie associations keep the gate busy after the leads: watch one more full window.
    std::thread::sleep(Duration::from_secs(param("BENCH_WINDOW_WATCH_S", 25) as u64));
    let s = peer.state();
    let c = &s["counters"];
    let per_call: Vec<f64> = c["leads_records_per_call"]
        .as_array()
        .map(|v| {
            v.iter()
                .filter_map(Value::as_f64)
                .filter(|n| *n > 0.0)
                .collect()
        })
        .unwrap_or_default();
    let avg = if per_call.is_empty() {
        0.0
    } else {
        per_call.iter().sum::<f64>() / per_call.len() as f64
    };
    let max = per_call.iter().cloned().fold(0.0, f64::max);
    print(
        "forwarding: backlog delivered after Marketo came back",
        format!(
            "{delivered} / {} leads in {drain:.1} s ({:.0} leads/s)",
            total - bad,
            delivered as f64 / drain.max(0.001)
        ),
        "all",
    );
    print(
        "forwarding: leads per leads.json call (mean / max)",
        format!("{avg:.0} / {max:.0} over {} calls", per_call.len()),
        ">= 250 of 300 under backlog",
    );
    let gate = w.admin("GET", "/admin/marketo/gate", None).json();
    print(
        "forwarding: calls by kind (leads / memberships / associations / activities)",
        format!(
            "{} / {} / {} / {}",
            gate["lead_calls"],
            gate["member_calls"],
            gate["association_calls"],
            gate["activity_calls"]
        ),
        "report",
    );
    print(
        "forwarding: most calls in one 20 s window (all REST calls, peer's count)",
        format!("{} of 100", c["calls_per_window_max"]),
        ">= 90 under backlog",
    );
    print(
        "forwarding: 606 / 615 answers seen",
        format!("{} / {}", c["count_606"], c["count_615"]),
        "0 / 0",
    );
}
