//! The module's exports for its hand-written JavaScript glue (`js/glue.js`): `language` and the `Chat` methods as plain functions over linear memory.
//!
//! Strings go in as UTF-8 bytes the glue writes into a buffer from [`dc_alloc`] (a null pointer:
//! none); each function takes its buffers back and frees them. A `Chat` lives behind a pointer.
//! A string answer stays in the module: the function returns its length and [`dc_out`] where it
//! starts, valid until the next call. [`chat_new`]'s error is such an answer (the glue throws it
//! as a JavaScript `Error`, as wasm-bindgen's `JsError` was): nothing is thrown through the
//! module's frames, which would skip its clean-up and leave its stack pointer moved.

use crate::ffi::Obj;
use crate::Chat;
use std::cell::RefCell;
use std::ptr::slice_from_raw_parts_mut;

thread_local! {
    static OUT: RefCell<String> = const { RefCell::new(String::new()) };
}

/// A buffer of `len` bytes for the glue to write a string into (every byte of it, before the
/// call that takes it back). Not zeroed, as the targeting module's is not.
#[no_mangle]
pub extern "C" fn dc_alloc(len: usize) -> *mut u8 {
    match std::alloc::Layout::array::<u8>(len) {
        Ok(l) if len > 0 => {
            // SAFETY: `l` has a non-zero size.
            let p = unsafe { std::alloc::alloc(l) };
            if p.is_null() {
                std::alloc::handle_alloc_error(l);
            }
            p
        }
        // What an empty `Box<[u8]>` holds: [`take`] makes one of it and frees nothing.
        _ => std::ptr::NonNull::<u8>::dangling().as_ptr(),
    }
}

/// Takes back a buffer from [`dc_alloc`] as text; null is none. Not checked again: the glue
/// writes it with `TextEncoder`, whose output is always UTF-8 (a lone surrogate becomes U+FFFD).
///
/// # Safety
/// `ptr` and `len` come from one [`dc_alloc`] call (or `ptr` is null), hold UTF-8 and are used
/// once.
unsafe fn take(ptr: *mut u8, len: usize) -> Option<String> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: the caller passes a buffer `dc_alloc` made with exactly this length.
    let b = unsafe { Box::from_raw(slice_from_raw_parts_mut(ptr, len)) };
    // SAFETY: the glue's `TextEncoder` wrote the bytes (above).
    Some(unsafe { String::from_utf8_unchecked(b.into_vec()) })
}

/// [`take`], none read as empty.
unsafe fn text(ptr: *mut u8, len: usize) -> String {
    // SAFETY: forwarded from the caller.
    unsafe { take(ptr, len) }.unwrap_or_default()
}

fn answer(s: String) -> usize {
    OUT.with(|o| {
        let mut o = o.borrow_mut();
        *o = s;
        o.len()
    })
}

/// Where the last string answer starts.
#[no_mangle]
pub extern "C" fn dc_out() -> *const u8 {
    OUT.with(|o| o.borrow().as_ptr())
}

/// The last string answer's length (for [`chat_new`]'s error).
#[no_mangle]
pub extern "C" fn dc_out_len() -> usize {
    OUT.with(|o| o.borrow().len())
}

/// [`crate::language`]; returns the answer's length.
///
/// # Safety
/// Each pointer/length pair a buffer from [`dc_alloc`].
#[no_mangle]
pub unsafe extern "C" fn language(
    c: *mut u8,
    cn: usize,
    p: *mut u8,
    pn: usize,
    b: *mut u8,
    bn: usize,
) -> usize {
    // SAFETY: forwarded from the caller.
    let (c, p, b) = unsafe { (text(c, cn), text(p, pn), text(b, bn)) };
    answer(crate::language(&c, &p, &b))
}

/// The glue's `create(host, config, flow, hash, saved, session, known, lang, catalogue)`
/// ([`Chat::new`]): `host` a handle the glue made (the array of its methods); `saved` and
/// `catalogue` may be null. On an error: null, and the message is the answer ([`dc_out`],
/// [`dc_out_len`]).
///
/// # Safety
/// Each pointer/length pair a buffer from [`dc_alloc`] or null.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn chat_new(
    host: u32,
    cfg: *mut u8,
    cfg_n: usize,
    flow: *mut u8,
    flow_n: usize,
    hash: *mut u8,
    hash_n: usize,
    saved: *mut u8,
    saved_n: usize,
    session: *mut u8,
    session_n: usize,
    known: *mut u8,
    known_n: usize,
    lang: *mut u8,
    lang_n: usize,
    catalogue: *mut u8,
    catalogue_n: usize,
    css: *mut u8,
    css_n: usize,
) -> *mut Chat {
    // SAFETY: forwarded from the caller.
    let (cfg, flow, hash, saved, session, known, lang, catalogue, css) = unsafe {
        (
            text(cfg, cfg_n),
            text(flow, flow_n),
            text(hash, hash_n),
            take(saved, saved_n),
            text(session, session_n),
            text(known, known_n),
            text(lang, lang_n),
            take(catalogue, catalogue_n),
            text(css, css_n),
        )
    };
    let Some(host) = Obj::from_raw(host) else {
        answer("no host".into());
        return std::ptr::null_mut();
    };
    let chat = Chat::new(
        host, &cfg, &flow, &hash, saved, &session, &known, &lang, catalogue, &css,
    );
    match chat {
        Ok(c) => Box::into_raw(Box::new(c)),
        Err(e) => {
            answer(e);
            std::ptr::null_mut()
        }
    }
}

/// The chat behind `c`.
///
/// # Safety
/// `c` from [`chat_new`]; the module runs on one thread.
unsafe fn chat<'a>(c: *const Chat) -> &'a Chat {
    // SAFETY: forwarded from the caller; a chat is never freed.
    unsafe { &*c }
}

/// [`Chat::open`].
///
/// # Safety
/// `c` from [`chat_new`].
#[no_mangle]
pub unsafe extern "C" fn chat_open(c: *const Chat) {
    unsafe { chat(c) }.open()
}

/// [`Chat::close`].
///
/// # Safety
/// `c` from [`chat_new`].
#[no_mangle]
pub unsafe extern "C" fn chat_close(c: *const Chat) {
    unsafe { chat(c) }.close()
}

/// [`Chat::end`].
///
/// # Safety
/// `c` from [`chat_new`].
#[no_mangle]
pub unsafe extern "C" fn chat_end(c: *const Chat) {
    unsafe { chat(c) }.end()
}

/// [`Chat::slots`].
///
/// # Safety
/// `c` from [`chat_new`]; `p`/`n` a buffer from [`dc_alloc`].
#[no_mangle]
pub unsafe extern "C" fn chat_slots(c: *const Chat, p: *mut u8, n: usize) {
    unsafe { chat(c).slots(&text(p, n)) }
}

/// [`Chat::booking`].
///
/// # Safety
/// `c` from [`chat_new`]; `p`/`n` a buffer from [`dc_alloc`].
#[no_mangle]
pub unsafe extern "C" fn chat_booking(c: *const Chat, p: *mut u8, n: usize) {
    unsafe { chat(c).booking(&text(p, n)) }
}

/// [`Chat::requested`] (`ok` 1 or 0).
///
/// # Safety
/// `c` from [`chat_new`].
#[no_mangle]
pub unsafe extern "C" fn chat_requested(c: *const Chat, ok: u32) {
    unsafe { chat(c) }.requested(ok != 0)
}

/// [`Chat::identify`].
///
/// # Safety
/// `c` from [`chat_new`]; `p`/`n` a buffer from [`dc_alloc`].
#[no_mangle]
pub unsafe extern "C" fn chat_identify(c: *const Chat, p: *mut u8, n: usize) {
    unsafe { chat(c).identify(&text(p, n)) }
}

/// [`Chat::status`]; returns the answer's length.
///
/// # Safety
/// `c` from [`chat_new`].
#[no_mangle]
pub unsafe extern "C" fn chat_status(c: *const Chat) -> usize {
    answer(unsafe { chat(c) }.status())
}

/// [`Chat::destroy`].
///
/// # Safety
/// `c` from [`chat_new`].
#[no_mangle]
pub unsafe extern "C" fn chat_destroy(c: *const Chat) {
    unsafe { chat(c) }.destroy()
}
