//! A real application against GoStore: the `rq` job queue (Python), driven
//! by tests/apps/rq_workload.py against GoStore and against redis-server,
//! must end in the same state: the same job statuses, results, failed and
//! finished registries, retries, dependent and scheduled jobs, and the same
//! keys left behind. rq runs Lua scripts for unique jobs, emptying a queue
//! and the scheduler's locks, and keeps results in streams.
//!
//! Needs `python3` with the `rq` package (`make oracle` installs it): the
//! test fails, never skips, when it is missing.

mod common;

use std::path::Path;
use std::process::Command;

use common::TestServer;

/// Runs the workload against the server on `port`: its JSON summary.
fn run_workload(port: u16, who: &str) -> String {
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/apps/rq_workload.py");
    let out = Command::new("python3")
        .arg(&driver)
        .arg(port.to_string())
        .output()
        .expect("python3 runs (make oracle installs what the tests need)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(
        out.status.code(),
        Some(3),
        "the rq package is missing: run `make oracle` (python3 -m pip install rq)\n{stderr}"
    );
    assert!(
        out.status.success(),
        "rq workload against {who} failed ({}):\n{stderr}",
        out.status
    );
    String::from_utf8(out.stdout).expect("the summary is UTF-8")
}

#[test]
fn rq_job_queue_ends_the_same_on_gostore_as_on_redis() {
    let redis = TestServer::redis(&[]);
    let gostore = TestServer::gostore(&[]);
    let want = run_workload(redis.port, "redis-server");
    // The workload did what it is meant to: a sanity check on Redis's run.
    for needle in [
        "\"unique_again\": \"rejected\"",
        "\"dep_status_before\": \"deferred\"",
        "\"exception\": \"ValueError: boom\"",
        "\"flaky_runs\": 3",
        "\"low_emptied\": 3",
        "\"rq:results:add\": \"stream\"",
    ] {
        assert!(
            want.contains(needle),
            "redis-server's run lacks {needle}:\n{want}"
        );
    }
    let got = run_workload(gostore.port, "gostore");
    if got != want {
        let diff: Vec<String> = want
            .lines()
            .zip(got.lines())
            .enumerate()
            .filter(|(_, (w, g))| w != g)
            .map(|(i, (w, g))| format!("line {}: redis {w:?}, gostore {g:?}", i + 1))
            .take(20)
            .collect();
        panic!(
            "rq ends differently on GoStore:\n{}\n--- redis-server:\n{want}\n--- gostore:\n{got}",
            diff.join("\n")
        );
    }
}
