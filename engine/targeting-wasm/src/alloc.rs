//! A small global allocator for the targeting module: power-of-two size classes with free lists, carved from `memory.grow`.
//!
//! The module lives for one page view and allocates a few hundred small objects, so this trades
//! dlmalloc's (~7 KB of wasm) space efficiency for size: a request is rounded up to a power of two
//! (at least 16 bytes), a freed block goes onto its class's list and is reused by the next request
//! of that class. Blocks are aligned to their size (up to a page), so every `Layout` whose
//! alignment is at most its rounded size is satisfied. wasm32-unknown-unknown runs this module on
//! one thread, so the state needs no lock.

// Only installed on wasm32; natively just its unit tests use it.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr::null_mut;

const PAGE: usize = 65536;
/// 16 B (class 0) .. 2 GB (class 27).
const CLASSES: usize = 28;

struct State {
    free: [usize; CLASSES],
    next: usize,
    end: usize,
}

/// The allocator (see the module documentation).
pub struct Classes(UnsafeCell<State>);

// SAFETY: wasm32-unknown-unknown without the atomics feature has a single thread.
unsafe impl Sync for Classes {}

impl Classes {
    /// An empty heap; memory is requested on first use.
    pub const fn new() -> Self {
        Classes(UnsafeCell::new(State {
            free: [0; CLASSES],
            next: 0,
            end: 0,
        }))
    }
}

impl Default for Classes {
    fn default() -> Self {
        Self::new()
    }
}

/// The class of a request, or `None` when it is too large.
fn class(l: &Layout) -> Option<usize> {
    let size = l.size().max(l.align()).max(16);
    let c = (usize::BITS - (size - 1).leading_zeros()) as usize - 4;
    (c < CLASSES).then_some(c)
}

/// Grows linear memory by `bytes` (rounded up to pages); the start of the new memory.
fn grow(bytes: usize) -> Option<usize> {
    let pages = bytes.div_ceil(PAGE);
    #[cfg(target_arch = "wasm32")]
    let prev = core::arch::wasm32::memory_grow(0, pages);
    #[cfg(not(target_arch = "wasm32"))]
    let prev = {
        let _ = pages;
        usize::MAX
    };
    (prev != usize::MAX).then(|| prev * PAGE)
}

unsafe impl GlobalAlloc for Classes {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let Some(c) = class(&l) else {
            return null_mut();
        };
        // SAFETY: one thread (see above), and no reference to the state outlives this call.
        let s = unsafe { &mut *self.0.get() };
        let head = s.free[c];
        if head != 0 {
            // SAFETY: `head` is a freed block of this class; its first word holds the next one.
            s.free[c] = unsafe { *(head as *const usize) };
            return head as *mut u8;
        }
        let size = 16usize << c;
        let align = size.min(PAGE);
        let mut at = s.next.next_multiple_of(align);
        if at.checked_add(size).is_none_or(|e| e > s.end) {
            let Some(start) = grow(size + align) else {
                return null_mut();
            };
            if start != s.end {
                s.next = start;
            }
            s.end = start + (size + align).div_ceil(PAGE) * PAGE;
            at = s.next.next_multiple_of(align);
        }
        s.next = at + size;
        at as *mut u8
    }

    unsafe fn dealloc(&self, ptr: *mut u8, l: Layout) {
        let Some(c) = class(&l) else { return };
        // SAFETY: as in `alloc`; `ptr` came from `alloc` with this layout, so it holds a word.
        let s = unsafe { &mut *self.0.get() };
        unsafe { *(ptr as *mut usize) = s.free[c] };
        s.free[c] = ptr as usize;
    }

    unsafe fn realloc(&self, ptr: *mut u8, l: Layout, new_size: usize) -> *mut u8 {
        let Ok(new) = Layout::from_size_align(new_size, l.align()) else {
            return null_mut();
        };
        if class(&new) == class(&l) {
            return ptr;
        }
        // SAFETY: the caller's contract for `realloc`; the copy covers the smaller of both sizes.
        unsafe {
            let p = self.alloc(new);
            if !p.is_null() {
                core::ptr::copy_nonoverlapping(ptr, p, l.size().min(new_size));
                self.dealloc(ptr, l);
            }
            p
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_round_up_to_powers_of_two() {
        let l = |s, a| Layout::from_size_align(s, a).ok();
        let c = |x: Option<Layout>| x.and_then(|x| class(&x));
        assert_eq!(c(l(1, 1)), Some(0));
        assert_eq!(c(l(16, 1)), Some(0));
        assert_eq!(c(l(17, 1)), Some(1));
        assert_eq!(c(l(8, 64)), Some(2));
        assert_eq!(c(l(65536, 1)), Some(12));
        assert_eq!(c(l(65537, 8)), Some(13));
        assert_eq!(c(l(usize::MAX / 2, 1)), None);
    }
}
