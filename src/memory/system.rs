//! The kernel's memory settings that matter to a forking in-memory store,
//! checked at start-up as Redis's `linuxMemoryWarnings` does.
//!
//! - Transparent huge pages: with THP `always`, the kernel may back the heap
//!   with 2 MB pages. A write after `fork()` then copies 2 MB instead of
//!   4 KB, and a page fault may stall on compaction. `disable-thp yes` (the
//!   default) turns THP off for this process with
//!   `prctl(PR_SET_THP_DISABLE)`; children inherit it.
//! - Overcommit: with `vm.overcommit_memory` other than 1, `fork()` of a
//!   large process can fail under memory pressure, and with it an AOF
//!   rewrite.

/// What the checks found (the warnings are already logged).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryChecks {
    /// THP is `[always]` system-wide.
    pub thp_always: bool,
    /// THP is off for this process (the prctl succeeded).
    pub thp_disabled: bool,
    /// `vm.overcommit_memory` is readable and not 1.
    pub overcommit_off: bool,
}

const THP_WARNING: &str = "WARNING You have Transparent Huge Pages (THP) support enabled in your kernel. This will create latency and memory usage issues with GoStore. To fix this issue run the command 'echo madvise > /sys/kernel/mm/transparent_hugepage/enabled' as root, and add it to your /etc/rc.local in order to retain the setting after a reboot. GoStore must be restarted after THP is disabled (set to 'madvise' or 'never').";

const OVERCOMMIT_WARNING: &str = "WARNING Memory overcommit must be enabled! Without it, a background AOF rewrite may fail under low memory condition. To fix this issue add 'vm.overcommit_memory = 1' to /etc/sysctl.conf and then reboot or run the command 'sysctl vm.overcommit_memory=1' for this to take effect.";

/// Runs the checks, turns THP off when asked, and logs a warning for what
/// is left wrong.
pub fn linux_memory_warnings(disable_thp: bool) -> MemoryChecks {
    let overcommit_off = std::fs::read_to_string("/proc/sys/vm/overcommit_memory")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .is_some_and(|v| v != 1);
    if overcommit_off {
        log::warn!("{OVERCOMMIT_WARNING}");
    }
    let thp_always = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
        .is_ok_and(|s| s.contains("[always]"));
    // Redis asks only when THP is `always`; asking in every case costs
    // nothing and keeps the process free of huge pages should an operator
    // switch THP on later.
    let thp_disabled = disable_thp && disable_thp_for_process();
    if thp_always && !thp_disabled {
        log::warn!("{THP_WARNING}");
    }
    MemoryChecks {
        thp_always,
        thp_disabled,
        overcommit_off,
    }
}

fn disable_thp_for_process() -> bool {
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and only sets a flag
    // on this process's memory map.
    let ret = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    ret == 0
}
