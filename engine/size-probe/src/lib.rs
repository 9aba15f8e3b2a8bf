//! Exports the whole engine API (compile, step, targeting, session JSON) through a raw C ABI so its wasm32 size can be measured without glue code.

use dynchat_engine::machine::{Input, Session};
use dynchat_engine::targeting::{Candidate, Context, PageInput, Targeting};
use dynchat_engine::{compile, step};

static mut OUT: Vec<u8> = Vec::new();

/// Allocates `n` bytes for the host to write input into.
#[no_mangle]
pub extern "C" fn probe_alloc(n: usize) -> *mut u8 {
    let mut v = Vec::<u8>::with_capacity(n);
    let p = v.as_mut_ptr();
    std::mem::forget(v);
    p
}

fn text<'a>(ptr: *const u8, len: usize) -> &'a str {
    // SAFETY: the host passes a buffer it obtained from `probe_alloc` and filled with `len` bytes.
    let bytes = unsafe { std::slice::from_raw_parts(ptr, len) };
    std::str::from_utf8(bytes).unwrap_or("")
}

fn set_out(s: String) -> usize {
    let n = s.len();
    // SAFETY: wasm32 is single-threaded; OUT is only touched from these exports.
    unsafe {
        OUT = s.into_bytes();
    }
    n
}

/// Compiles a flow, runs `Start` and one input (JSON), returns the length of the effects JSON.
#[no_mangle]
pub extern "C" fn probe_step(
    flow: *const u8,
    flow_len: usize,
    input: *const u8,
    input_len: usize,
    now: i64,
) -> usize {
    let out = match compile(text(flow, flow_len)) {
        Ok(f) => {
            let mut s = Session::new(&f, "probe", &[], now);
            step(&f, &mut s, Input::Start, now);
            let effects = match serde_json::from_str::<Input>(text(input, input_len)) {
                Ok(i) => step(&f, &mut s, i, now),
                Err(_) => Vec::new(),
            };
            let resumed = Session::from_json(&s.to_json(), &f).is_ok();
            serde_json::json!({ "effects": effects, "resumed": resumed }).to_string()
        }
        Err(d) => serde_json::to_string(&d).unwrap_or_default(),
    };
    set_out(out)
}

/// Selects a dialogue for a page (JSON `PageInput`) among compiled flows (JSON array of dialogues).
#[no_mangle]
pub extern "C" fn probe_select(
    flows: *const u8,
    flows_len: usize,
    page: *const u8,
    page_len: usize,
) -> usize {
    let list: Vec<serde_json::Value> =
        serde_json::from_str(text(flows, flows_len)).unwrap_or_default();
    let cands = list
        .iter()
        .filter_map(|v| compile(&v.to_string()).ok())
        .map(|f| Candidate {
            id: f.id.clone(),
            priority: f.priority,
            audience: f.audience.clone(),
            display: f.display.clone(),
        })
        .collect();
    let page: PageInput = serde_json::from_str(text(page, page_len)).unwrap_or_default();
    let sel = Targeting::new(cands).select(&Context::new(page), &|_| None);
    set_out(serde_json::to_string(&sel).unwrap_or_default())
}

/// Pointer to the last output.
#[no_mangle]
pub extern "C" fn probe_out() -> *const u8 {
    // SAFETY: single-threaded wasm; returns a pointer the host reads before the next call.
    unsafe { (*std::ptr::addr_of!(OUT)).as_ptr() }
}
