//! The chat module's imports from its hand-written glue (`js/glue.js`): the DOM, timers, the host and a few browser functions, over linear memory.
//!
//! No wasm-bindgen: the glue instantiates the module with one import object, module `a`, and
//! keeps every JavaScript object the module holds (elements, the shadow root, events, the host)
//! in an array; the module holds an [`Obj`], its index, and frees it when the `Obj` drops. Strings
//! go out as `(ptr, len)` UTF-8; a string answer comes back as its byte length (-1: none), and
//! the module then has the glue copy it into a buffer of its own ([`answer`]).

/// Declares the imports; off wasm32 (native unit tests, clippy) they exist but are never called.
macro_rules! imports {
    ($($name:ident($($a:ident: $t:ty),*) $(-> $r:ty)?;)*) => {
        #[cfg(target_arch = "wasm32")]
        #[link(wasm_import_module = "a")]
        extern "C" {
            $(fn $name($($a: $t),*) $(-> $r)?;)*
        }
        #[cfg(not(target_arch = "wasm32"))]
        mod native {
            $(#[allow(unused_variables, clippy::missing_safety_doc)]
            pub(super) unsafe fn $name($($a: $t),*) $(-> $r)? {
                unreachable!("browser imports are only called on wasm32")
            })*
        }
        #[cfg(not(target_arch = "wasm32"))]
        use native::*;
    };
}

imports! {
    dc_create(svg: u32, tag: *const u8, tag_len: usize) -> u32;
    dc_set_attr(h: u32, name: *const u8, name_len: usize, value: *const u8, value_len: usize);
    dc_remove_attr(h: u32, name: *const u8, name_len: usize);
    dc_get_attr(h: u32, name: *const u8, name_len: usize) -> i32;
    dc_append(parent: u32, child: u32);
    dc_insert(parent: u32, child: u32, before: u32);
    dc_append_text(h: u32, text: *const u8, text_len: usize);
    dc_set_text(h: u32, text: *const u8, text_len: usize);
    dc_find(h: u32, sel: *const u8, sel_len: usize) -> u32;
    dc_closest(h: u32, sel: *const u8, sel_len: usize) -> u32;
    dc_value(h: u32) -> i32;
    dc_focus(h: u32);
    dc_remove(h: u32);
    dc_scroll_end(h: u32);
    dc_active(h: u32) -> u32;
    dc_same(a: u32, b: u32) -> u32;
    dc_body() -> u32;
    dc_shadow(host: u32, css: *const u8, css_len: usize, listener: u32) -> u32;
    dc_free(h: u32);
    dc_target(ev: u32) -> u32;
    dc_key(ev: u32) -> i32;
    dc_stop(ev: u32);
    dc_prevent(ev: u32);
    dc_timeout(id: u32, ms: u32);
    dc_call(host: u32, method: u32, a: *const u8, a_len: usize, b: *const u8, b_len: usize) -> u32;
    dc_pattern(p: *const u8, p_len: usize, t: *const u8, t_len: usize) -> u32;
    dc_case(t: *const u8, t_len: usize, upper: u32) -> i32;
    dc_now() -> f64;
    dc_take(ptr: *mut u8);
}

/// The string answer the glue holds, `n` bytes (none when negative), copied into the module; not
/// checked again: the glue encodes it with `TextEncoder`, whose output is always UTF-8.
fn answer(n: i32) -> Option<String> {
    let n = usize::try_from(n).ok()?;
    let mut b = Vec::with_capacity(n);
    // SAFETY: the glue writes exactly the `n` bytes of the answer it holds into `b`'s room for
    // `n`, and they are `TextEncoder`'s output, so UTF-8.
    unsafe {
        dc_take(b.as_mut_ptr());
        b.set_len(n);
        Some(String::from_utf8_unchecked(b))
    }
}

/// A JavaScript object held by the glue for the module (an element, the shadow root, an event,
/// the host); freed when dropped.
pub struct Obj(u32);

impl Drop for Obj {
    fn drop(&mut self) {
        // SAFETY: plain numbers; the glue frees its slot.
        unsafe { dc_free(self.0) }
    }
}

impl Obj {
    /// Takes over a handle the glue made (0: none); the glue gives each out once.
    pub(crate) fn from_raw(h: u32) -> Option<Obj> {
        // Not `then_some(Obj(h))`: that would make (and drop, freeing slot 0) an `Obj` for none.
        if h == 0 {
            None
        } else {
            Some(Obj(h))
        }
    }

    /// `document.createElement(tag)`, or an SVG element (`createElementNS`).
    pub fn create(svg: bool, tag: &str) -> Obj {
        // SAFETY (every import below): pointers and lengths of live strings, handles the
        // module holds; the glue reads them during the call only.
        Obj(unsafe { dc_create(u32::from(svg), tag.as_ptr(), tag.len()) })
    }

    /// `document.body`.
    pub fn body() -> Option<Obj> {
        Obj::from_raw(unsafe { dc_body() })
    }

    /// The open shadow root of this element with the stylesheet `css` (a constructed sheet) and
    /// one listener per event type, each calling the export `dc_event` with `listener`.
    pub fn shadow(&self, css: &str, listener: u32) -> Option<Obj> {
        Obj::from_raw(unsafe { dc_shadow(self.0, css.as_ptr(), css.len(), listener) })
    }

    /// `el.setAttribute(name, value)`.
    pub fn set_attr(&self, name: &str, value: &str) {
        unsafe {
            dc_set_attr(
                self.0,
                name.as_ptr(),
                name.len(),
                value.as_ptr(),
                value.len(),
            )
        }
    }

    /// `el.removeAttribute(name)`.
    pub fn remove_attr(&self, name: &str) {
        unsafe { dc_remove_attr(self.0, name.as_ptr(), name.len()) }
    }

    /// `el.getAttribute(name)`.
    pub fn attr(&self, name: &str) -> Option<String> {
        answer(unsafe { dc_get_attr(self.0, name.as_ptr(), name.len()) })
    }

    /// `parent.appendChild(child)`.
    pub fn append(&self, child: &Obj) {
        unsafe { dc_append(self.0, child.0) }
    }

    /// `parent.insertBefore(child, before)`.
    pub fn insert(&self, child: &Obj, before: &Obj) {
        unsafe { dc_insert(self.0, child.0, before.0) }
    }

    /// Appends a text node.
    pub fn append_text(&self, text: &str) {
        unsafe { dc_append_text(self.0, text.as_ptr(), text.len()) }
    }

    /// `el.textContent = text`.
    pub fn set_text(&self, text: &str) {
        unsafe { dc_set_text(self.0, text.as_ptr(), text.len()) }
    }

    /// `el.querySelector(sel)`.
    pub fn find(&self, sel: &str) -> Option<Obj> {
        Obj::from_raw(unsafe { dc_find(self.0, sel.as_ptr(), sel.len()) })
    }

    /// `el.closest(sel)`.
    pub fn closest(&self, sel: &str) -> Option<Obj> {
        Obj::from_raw(unsafe { dc_closest(self.0, sel.as_ptr(), sel.len()) })
    }

    /// An input's `value`.
    pub fn value(&self) -> String {
        answer(unsafe { dc_value(self.0) }).unwrap_or_default()
    }

    /// `el.focus()`.
    pub fn focus(&self) {
        unsafe { dc_focus(self.0) }
    }

    /// `el.remove()`.
    pub fn remove(&self) {
        unsafe { dc_remove(self.0) }
    }

    /// Scrolls to the end (`scrollTop = scrollHeight`).
    pub fn scroll_end(&self) {
        unsafe { dc_scroll_end(self.0) }
    }

    /// The focused element of this shadow root, or of the document ([`active_in_document`]).
    pub fn active(&self) -> Option<Obj> {
        Obj::from_raw(unsafe { dc_active(self.0) })
    }

    /// The same JavaScript object?
    pub fn same(&self, other: &Obj) -> bool {
        unsafe { dc_same(self.0, other.0) != 0 }
    }

    /// An event's target, when it is an element.
    pub fn target(&self) -> Option<Obj> {
        Obj::from_raw(unsafe { dc_target(self.0) })
    }

    /// A keyboard event's `key`.
    pub fn key(&self) -> Option<String> {
        answer(unsafe { dc_key(self.0) })
    }

    /// `e.stopPropagation()`.
    pub fn stop(&self) {
        unsafe { dc_stop(self.0) }
    }

    /// `e.preventDefault()`.
    pub fn prevent(&self) {
        unsafe { dc_prevent(self.0) }
    }

    /// Calls the host's method `method` (see `js/glue.js`) with two strings; its number answer.
    pub fn call(&self, method: u32, a: &str, b: &str) -> u32 {
        unsafe { dc_call(self.0, method, a.as_ptr(), a.len(), b.as_ptr(), b.len()) }
    }
}

/// `document.activeElement`.
pub fn active_in_document() -> Option<Obj> {
    Obj::from_raw(unsafe { dc_active(0) })
}

/// Whole-answer test with the browser's `RegExp` (see `pattern` in `js/glue.js`).
pub fn pattern_test(pattern: &str, text: &str) -> bool {
    unsafe { dc_pattern(pattern.as_ptr(), pattern.len(), text.as_ptr(), text.len()) != 0 }
}

/// The browser's `toLowerCase` (or `toUpperCase`).
pub fn case(text: &str, upper: bool) -> String {
    answer(unsafe { dc_case(text.as_ptr(), text.len(), u32::from(upper)) }).unwrap_or_default()
}

/// `Date.now()`.
pub fn now() -> f64 {
    unsafe { dc_now() }
}

/// Runs `f` after `ms` milliseconds (at most 10 s): `setTimeout`, calling [`dc_timer`].
pub fn later(ms: u32, f: Box<dyn FnOnce()>) {
    let id = Box::into_raw(Box::new(f)) as usize as u32;
    unsafe { dc_timeout(id, ms.min(10_000)) }
}

/// A timer of [`later`] fired.
///
/// # Safety
/// `id` from [`later`], once.
#[no_mangle]
pub unsafe extern "C" fn dc_timer(id: u32) {
    // SAFETY: `later` leaked this box and the glue fires each timer once.
    let f = unsafe { Box::from_raw(id as usize as *mut Box<dyn FnOnce()>) };
    f()
}
