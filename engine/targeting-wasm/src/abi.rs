//! The module's exports for its hand-written JavaScript glue (`js/targeting.js`): plain functions over linear memory.
//!
//! Strings go in as UTF-8 bytes the glue writes into a buffer from [`dc_alloc`]; each function
//! that takes one frees it. A `Targeter` lives behind a pointer for the page's lifetime (the loader
//! never drops it). An answer is UTF-8 JSON kept in the targeter: the function returns its length
//! and [`targeter_out`] where it starts, valid until the next call on that targeter.

use crate::Targeter;
use std::alloc::Layout;
use std::ptr::{slice_from_raw_parts_mut, NonNull};

/// A targeter and its last answer.
pub struct Handle {
    t: Targeter,
    out: String,
}

/// A buffer of `len` bytes for the glue to write a string into (every byte of it, before the
/// call that takes it back). Not zeroed, as wasm-bindgen's `__wbindgen_malloc` is not: zeroing
/// brought `alloc_zeroed` and a `memset` loop (about 200 B of the module).
#[no_mangle]
pub extern "C" fn dc_alloc(len: usize) -> *mut u8 {
    match Layout::array::<u8>(len) {
        Ok(l) if len > 0 => {
            // SAFETY: `l` has a non-zero size.
            let p = unsafe { std::alloc::alloc(l) };
            if p.is_null() {
                std::alloc::handle_alloc_error(l);
            }
            p
        }
        // What an empty `Box<[u8]>` holds: [`take`] makes one of it and frees nothing.
        _ => NonNull::<u8>::dangling().as_ptr(),
    }
}

/// Takes back a buffer from [`dc_alloc`] as text (invalid UTF-8, which `TextEncoder` never
/// writes, reads as empty).
///
/// # Safety
/// `ptr` and `len` come from one [`dc_alloc`] call and are used once.
unsafe fn take(ptr: *mut u8, len: usize) -> String {
    // SAFETY: the caller passes a buffer `dc_alloc` made with exactly this length (allocated with
    // `Layout::array::<u8>(len)`, the layout a `Box<[u8]>` of `len` frees with) and the glue wrote
    // all of its bytes.
    let b = unsafe { Box::from_raw(slice_from_raw_parts_mut(ptr, len)) };
    String::from_utf8(b.into_vec()).unwrap_or_default()
}

fn answer(h: &mut Handle, out: String) -> usize {
    h.out = out;
    h.out.len()
}

/// `Targeter(bundle_json)` (the glue).
///
/// # Safety
/// `ptr`/`len`: a buffer from [`dc_alloc`].
#[no_mangle]
pub unsafe extern "C" fn targeter_new(ptr: *mut u8, len: usize) -> *mut Handle {
    // SAFETY: forwarded from the caller.
    let bundle = unsafe { take(ptr, len) };
    Box::into_raw(Box::new(Handle {
        t: Targeter::new(&bundle),
        out: String::new(),
    }))
}

/// `Targeter::select(page_json, seen_json)`; returns the answer's length.
///
/// # Safety
/// `h` from [`targeter_new`]; each `ptr`/`len` pair a buffer from [`dc_alloc`].
#[no_mangle]
pub unsafe extern "C" fn targeter_select(
    h: *mut Handle,
    page: *mut u8,
    page_len: usize,
    seen: *mut u8,
    seen_len: usize,
) -> usize {
    // SAFETY: forwarded from the caller.
    let (page, seen) = unsafe { (take(page, page_len), take(seen, seen_len)) };
    // SAFETY: `h` is a live handle; the module runs on one thread and does not re-enter.
    let h = unsafe { &mut *h };
    let out = h.t.select(&page, &seen);
    answer(h, out)
}

/// `Targeter::update(time_on_page_s, scroll_depth_pct, exit_intent, now_ms)`; returns the answer's length.
///
/// # Safety
/// `h` from [`targeter_new`].
#[no_mangle]
pub unsafe extern "C" fn targeter_update(
    h: *mut Handle,
    time_on_page_s: u32,
    scroll_depth_pct: u32,
    exit_intent: u32,
    now_ms: f64,
) -> usize {
    // SAFETY: `h` is a live handle; the module runs on one thread and does not re-enter.
    let h = unsafe { &mut *h };
    let out =
        h.t.update(time_on_page_s, scroll_depth_pct, exit_intent != 0, now_ms);
    answer(h, out)
}

/// A branch rule decided for the chat module (`dynchat_engine::targeting::judge`): `query` is
/// `[audience, facts]` as JSON; 1 when the rule holds, 0 when not, 2 when the query does not
/// read. Frees the buffer.
///
/// # Safety
/// `ptr`/`len`: a buffer from [`dc_alloc`].
#[no_mangle]
pub unsafe extern "C" fn targeter_judge(ptr: *mut u8, len: usize) -> u32 {
    // SAFETY: forwarded from the caller.
    let query = unsafe { take(ptr, len) };
    dynchat_engine::targeting::judge(&query).map_or(2, u32::from)
}

/// Where the last answer of `h` starts.
///
/// # Safety
/// `h` from [`targeter_new`].
#[no_mangle]
pub unsafe extern "C" fn targeter_out(h: *const Handle) -> *const u8 {
    // SAFETY: `h` is a live handle.
    unsafe { (*h).out.as_ptr() }
}
