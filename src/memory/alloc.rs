//! The counting allocator behind `used_memory` (Redis's `zmalloc` counter).
//!
//! `CountingAlloc` wraps the system allocator (glibc's malloc) and keeps one
//! process-wide counter of the bytes it has handed out, so `used_memory`
//! follows everything the server owns: the keyspace, client query and reply
//! buffers, the AOF buffer, and values still waiting on the lazyfree thread.
//! The `gostore` binary installs it with `#[global_allocator]`; a program
//! that does not (unit tests, gostore-cli) gets `None` from `allocated`.
//!
//! What is counted is the chunk glibc carves out for a request, header
//! included (`chunk_size`): 32 bytes at least, then the request plus 8,
//! rounded up to 16. That is what the heap really spends, so a maxmemory
//! limit holds for the process, not only for the payloads. Very large
//! requests are mmapped by glibc and cost up to a page more than counted.
//!
//! Cost: one relaxed atomic add per allocation and per free. The counter is
//! atomic because the helper threads (fsync, lazyfree) allocate and free
//! too; the loop is its only heavy user, so the cache line stays local.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Bytes handed out and not yet freed, in glibc chunk sizes.
static USED: AtomicUsize = AtomicUsize::new(0);
/// Set by the first allocation through `CountingAlloc`.
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// The system allocator, counting what it hands out.
#[derive(Debug, Default, Clone, Copy)]
pub struct CountingAlloc;

/// Bytes of heap a request of `size` bytes (aligned to at most 16) really
/// takes in glibc's malloc: its `request2size`, with the 8-byte chunk header.
#[inline]
pub(crate) const fn chunk_size(size: usize) -> usize {
    let n = size.saturating_add(8 + 15) & !15;
    if n < 32 {
        32
    } else {
        n
    }
}

/// What a request with `layout` costs: over-aligned requests go through
/// `posix_memalign`, which may waste up to the alignment in front.
#[inline]
fn cost(layout: Layout) -> usize {
    let c = chunk_size(layout.size());
    if layout.align() > 16 {
        c + layout.align()
    } else {
        c
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees carry over; the counter is only
// bookkeeping.
unsafe impl GlobalAlloc for CountingAlloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            USED.fetch_add(cost(layout), Ordering::Relaxed);
        }
        p
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            USED.fetch_add(cost(layout), Ordering::Relaxed);
        }
        p
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        USED.fetch_sub(cost(layout), Ordering::Relaxed);
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            // SAFETY: the caller guarantees new_size, rounded to the
            // alignment, does not overflow isize (GlobalAlloc::realloc).
            let new = cost(Layout::from_size_align_unchecked(new_size, layout.align()));
            let old = cost(layout);
            if new >= old {
                USED.fetch_add(new - old, Ordering::Relaxed);
            } else {
                USED.fetch_sub(old - new, Ordering::Relaxed);
            }
        }
        p
    }
}

impl CountingAlloc {
    /// Marks the allocator as installed; the binary calls this first thing
    /// in `main`, so `allocated` can tell a real zero from "not counting".
    pub fn install(&self) {
        INSTALLED.store(true, Ordering::Relaxed);
    }
}

/// Bytes allocated through `CountingAlloc` and not freed, or `None` when the
/// program does not use it as its global allocator.
#[inline]
pub(crate) fn allocated() -> Option<usize> {
    if INSTALLED.load(Ordering::Relaxed) {
        Some(USED.load(Ordering::Relaxed))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_sizes_follow_glibc_request2size() {
        assert_eq!(chunk_size(0), 32);
        assert_eq!(chunk_size(24), 32);
        assert_eq!(chunk_size(25), 48);
        assert_eq!(chunk_size(40), 48);
        assert_eq!(chunk_size(56), 64);
        assert_eq!(chunk_size(100), 112);
        assert_eq!(chunk_size(usize::MAX), usize::MAX & !15);
    }

    #[test]
    fn the_counter_balances_over_alloc_realloc_and_free() {
        let a = CountingAlloc;
        let before = USED.load(Ordering::Relaxed);
        // SAFETY: valid non-zero layouts; each pointer is freed once with
        // the layout it was last given.
        unsafe {
            let l = Layout::from_size_align(100, 8).unwrap();
            let p = a.alloc(l);
            assert!(!p.is_null());
            assert_eq!(USED.load(Ordering::Relaxed) - before, 112);
            let p = a.realloc(p, l, 1000);
            assert_eq!(USED.load(Ordering::Relaxed) - before, chunk_size(1000));
            let l2 = Layout::from_size_align(1000, 8).unwrap();
            let p = a.realloc(p, l2, 10);
            assert_eq!(USED.load(Ordering::Relaxed) - before, 32);
            a.dealloc(p, Layout::from_size_align(10, 8).unwrap());
        }
        assert_eq!(USED.load(Ordering::Relaxed), before);
    }
}
