//! The AOF's helper thread: fsyncs the file under `appendfsync everysec`,
//! fsyncs and closes the files the writer leaves, removes old files, and
//! runs the rewrite's file steps (creating the next incr file, renaming the
//! new base, writing the manifest), so no disk-speed syscall runs on the
//! loop. Jobs run one at a time, in the order they were queued. At most one
//! everysec fsync is in flight; the loop reads its progress through atomics
//! and is woken when a job ends.

use std::fs::File;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

/// A job for the helper thread.
enum Job {
    /// fdatasync `file`; on success everything up to `offset` is durable.
    Fsync(Arc<File>, u64, Instant),
    /// Close a file (and unlink `path` if given), off the loop.
    Close(File, Option<PathBuf>),
    /// fdatasync (then close) a file the writer switched away from; on
    /// success everything up to `offset` is durable.
    Retire(Arc<File>, u64),
    /// Any other file work; it reports its own result.
    Task(Box<dyn FnOnce() + Send>),
}

#[derive(Default)]
struct Shared {
    in_progress: AtomicBool,
    done_offset: AtomicU64,
    /// errno of the last failed fsync, 0 when the last one succeeded.
    errno: AtomicI32,
}

/// Handle to the helper thread.
pub struct FsyncWorker {
    tx: Option<Sender<Job>>,
    shared: Arc<Shared>,
    handle: Option<JoinHandle<()>>,
}

impl FsyncWorker {
    /// Starts the thread; `wake` is called after each job.
    pub fn start(wake: impl Fn() + Send + 'static) -> std::io::Result<FsyncWorker> {
        let (tx, rx) = channel::<Job>();
        let shared = Arc::new(Shared::default());
        let sh = Arc::clone(&shared);
        let handle = std::thread::Builder::new()
            .name("aof-fsync".into())
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    match job {
                        Job::Fsync(file, offset, asked) => {
                            match super::failpoint::sync_data(&file) {
                                Ok(()) => {
                                    sh.done_offset.fetch_max(offset, Ordering::AcqRel);
                                    sh.errno.store(0, Ordering::Release);
                                    log::debug!(
                                        "Background AOF fsync up to offset {offset} done, {} ms after it was asked for",
                                        asked.elapsed().as_millis()
                                    );
                                }
                                Err(e) => {
                                    log::warn!(
                                        "Error fsyncing the AOF file in the background: {e}"
                                    );
                                    sh.errno.store(
                                        e.raw_os_error().unwrap_or(libc::EIO),
                                        Ordering::Release,
                                    );
                                }
                            }
                            sh.in_progress.store(false, Ordering::Release);
                        }
                        Job::Retire(file, offset) => match file.sync_data() {
                            Ok(()) => {
                                sh.done_offset.fetch_max(offset, Ordering::AcqRel);
                            }
                            Err(e) => {
                                log::warn!("Error fsyncing the previous AOF file: {e}");
                                sh.errno.store(
                                    e.raw_os_error().unwrap_or(libc::EIO),
                                    Ordering::Release,
                                );
                            }
                        },
                        Job::Task(f) => f(),
                        Job::Close(file, unlink) => {
                            drop(file);
                            if let Some(p) = unlink {
                                if let Err(e) = std::fs::remove_file(&p) {
                                    log::warn!(
                                        "Could not remove old AOF file {}: {e}",
                                        p.display()
                                    );
                                }
                            }
                        }
                    }
                    wake();
                }
            })?;
        Ok(FsyncWorker {
            tx: Some(tx),
            shared,
            handle: Some(handle),
        })
    }

    /// Whether an fsync is running.
    pub fn in_progress(&self) -> bool {
        self.shared.in_progress.load(Ordering::Acquire)
    }

    /// Highest offset known fsynced by the thread.
    pub fn done_offset(&self) -> u64 {
        self.shared.done_offset.load(Ordering::Acquire)
    }

    /// errno of the last background fsync if it failed.
    pub fn last_error(&self) -> Option<i32> {
        match self.shared.errno.load(Ordering::Acquire) {
            0 => None,
            e => Some(e),
        }
    }

    /// Forgets a failed background fsync (the policy changed, so nothing
    /// will retry it).
    pub fn clear_error(&self) {
        self.shared.errno.store(0, Ordering::Release);
    }

    /// Starts an fsync of `file` covering `offset`, unless one is running.
    /// Returns whether it started.
    pub fn request_fsync(&self, file: &Arc<File>, offset: u64) -> bool {
        if self.in_progress() {
            return false;
        }
        self.shared.in_progress.store(true, Ordering::Release);
        let sent = self
            .tx
            .as_ref()
            .map(|tx| {
                tx.send(Job::Fsync(Arc::clone(file), offset, Instant::now()))
                    .is_ok()
            })
            .unwrap_or(false);
        if !sent {
            self.shared.in_progress.store(false, Ordering::Release);
        }
        sent
    }

    /// Closes `file` (unlinking `unlink`) on the thread.
    pub fn close_later(&self, file: File, unlink: Option<PathBuf>) {
        self.send(Job::Close(file, unlink));
    }

    /// Removes `path` on the thread.
    pub fn unlink_later(&self, path: PathBuf) {
        self.run(move || {
            if let Err(e) = std::fs::remove_file(&path) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    log::warn!("Could not remove {}: {e}", path.display());
                }
            }
        });
    }

    /// fsyncs and closes `file`, the one the writer used up to `offset`.
    pub fn retire(&self, file: Arc<File>, offset: u64) {
        self.send(Job::Retire(file, offset));
    }

    /// Runs `task` on the thread, after the jobs already queued.
    pub fn run(&self, task: impl FnOnce() + Send + 'static) {
        self.send(Job::Task(Box::new(task)));
    }

    /// Queues a job; runs it here if the thread is gone.
    fn send(&self, job: Job) {
        let job = match &self.tx {
            Some(tx) => match tx.send(job) {
                Ok(()) => return,
                Err(std::sync::mpsc::SendError(job)) => job,
            },
            None => job,
        };
        match job {
            Job::Retire(file, _) => drop(file),
            Job::Task(f) => f(),
            Job::Close(f, p) => {
                drop(f);
                if let Some(p) = p {
                    let _ = std::fs::remove_file(p);
                }
            }
            Job::Fsync(..) => {}
        }
    }

    /// Waits for queued jobs to finish and stops the thread.
    pub fn stop(&mut self) {
        self.tx = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for FsyncWorker {
    fn drop(&mut self) {
        self.stop();
    }
}
