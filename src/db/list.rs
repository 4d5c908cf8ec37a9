//! STAND-IN, TO BE REPLACED: a simple `VecDeque<Vec<u8>>` with the public API
//! of the real quicklist (see /work/notes/list_api.md), so the list commands
//! compile and their tests run while the real `src/db/list.rs` (a quicklist
//! of packed nodes, LZF) is written elsewhere. It ignores `ListLimits`,
//! reports one node and no compressed ones, and its `heap_bytes` is an
//! estimate. Nothing outside this file may rely on more than that API.

use std::borrow::Cow;
use std::collections::VecDeque;

/// Which end of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The first element's end (LPUSH, LPOP).
    Head,
    /// The last element's end (RPUSH, RPOP).
    Tail,
}

/// The node limits, from `list-max-listpack-size` and `list-compress-depth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListLimits {
    /// Entries (positive) or a size class (-1..=-5) per packed node.
    pub fill: i32,
    /// Nodes at each end kept uncompressed (0 = no compression).
    pub compress_depth: u32,
}

impl Default for ListLimits {
    fn default() -> Self {
        ListLimits {
            fill: -2,
            compress_depth: 0,
        }
    }
}

/// A list (stand-in: a deque of owned elements).
#[derive(Clone, Debug, Default)]
pub struct List {
    items: VecDeque<Vec<u8>>,
}

impl List {
    /// An empty list.
    pub fn new() -> List {
        List::default()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether it has no elements.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Adds `value` at `end`.
    pub fn push(&mut self, end: End, value: &[u8], _limits: ListLimits) {
        match end {
            End::Head => self.items.push_front(value.to_vec()),
            End::Tail => self.items.push_back(value.to_vec()),
        }
    }

    /// Removes the element at `end`.
    pub fn pop(&mut self, end: End, _limits: ListLimits) -> Option<Vec<u8>> {
        match end {
            End::Head => self.items.pop_front(),
            End::Tail => self.items.pop_back(),
        }
    }

    /// Element `index` (0 = head).
    pub fn get(&self, index: usize) -> Option<Cow<'_, [u8]>> {
        self.items.get(index).map(|v| Cow::Borrowed(&v[..]))
    }

    /// Replaces element `index`; false when out of range.
    pub fn set(&mut self, index: usize, value: &[u8], _limits: ListLimits) -> bool {
        match self.items.get_mut(index) {
            Some(slot) => {
                *slot = value.to_vec();
                true
            }
            None => false,
        }
    }

    /// Inserts `value` so that it becomes element `index`.
    pub fn insert(&mut self, index: usize, value: &[u8], _limits: ListLimits) {
        self.items.insert(index, value.to_vec());
    }

    /// Calls `f` with elements `start..=end`, head to tail.
    pub fn for_each_in(&self, start: usize, end: usize, mut f: impl FnMut(&[u8])) {
        for v in self.items.range(start..=end) {
            f(v);
        }
    }

    /// All elements head to tail.
    pub fn iter(&self) -> impl Iterator<Item = Cow<'_, [u8]>> + '_ {
        self.items.iter().map(|v| Cow::Borrowed(&v[..]))
    }

    /// All elements tail to head.
    pub fn iter_rev(&self) -> impl Iterator<Item = Cow<'_, [u8]>> + '_ {
        self.items.iter().rev().map(|v| Cow::Borrowed(&v[..]))
    }

    /// LREM: removes up to |count| elements equal to `value` (count > 0
    /// from the head, < 0 from the tail, 0 all); returns how many went.
    pub fn remove_matching(&mut self, count: i64, value: &[u8], _limits: ListLimits) -> usize {
        let max = if count == 0 {
            usize::MAX
        } else {
            count.unsigned_abs() as usize
        };
        let mut removed = 0;
        if count >= 0 {
            let mut i = 0;
            while i < self.items.len() && removed < max {
                if self.items[i] == value {
                    self.items.remove(i);
                    removed += 1;
                } else {
                    i += 1;
                }
            }
        } else {
            let mut i = self.items.len();
            while i > 0 && removed < max {
                i -= 1;
                if self.items[i] == value {
                    self.items.remove(i);
                    removed += 1;
                }
            }
        }
        removed
    }

    /// LTRIM: keeps elements start..=end.
    pub fn keep_range(&mut self, start: usize, end: usize, _limits: ListLimits) {
        if start > end || start >= self.items.len() {
            self.items.clear();
            return;
        }
        self.items.truncate(end + 1);
        self.items.drain(..start);
    }

    /// Heap bytes it owns (an estimate in the stand-in).
    pub fn heap_bytes(&self) -> usize {
        self.items.capacity() * std::mem::size_of::<Vec<u8>>()
            + self
                .items
                .iter()
                .map(|v| crate::memory::alloc::chunk_size(v.capacity()))
                .sum::<usize>()
    }

    /// Node count. The stand-in has no nodes; it reports one per 1024
    /// elements, near what a quicklist of small elements has, so that
    /// lazy-free decisions (`lazyfree::free_effort`) behave alike.
    pub fn node_count(&self) -> usize {
        self.items.len().div_ceil(1024)
    }

    /// Compressed nodes (none in the stand-in).
    pub fn compressed_nodes(&self) -> usize {
        0
    }
}
