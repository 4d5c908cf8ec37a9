"""A small rq job queue workload, run against one server.

    python3 tests/apps/rq_workload.py PORT

Flushes the server, enqueues jobs (plain, failing, retried, dependent,
unique, scheduled in the past and in the future, a queue that is emptied),
runs one SimpleWorker in burst mode with the scheduler, and prints a JSON
summary with no timestamps or generated ids, so that two servers' runs
compare equal. tests/rq_app.rs runs it against GoStore and redis-server.
Exit status 3 when the `rq` package is missing (make oracle installs it).
"""

import json
import logging
import os
import sys
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

try:
    import rq
    from redis import Redis
    from rq import Queue, Retry, SimpleWorker
    from rq.exceptions import DuplicateJobError
    from rq.job import Job
    from rq.registry import (
        DeferredJobRegistry,
        FailedJobRegistry,
        FinishedJobRegistry,
        ScheduledJobRegistry,
    )
except ImportError as e:
    print(f"rq_workload: {e} (run `make oracle` to install rq)", file=sys.stderr)
    sys.exit(3)

import rq_jobs


class Worker(SimpleWorker):
    """rq's SimpleWorker, whose command-channel thread polls every 50 ms
    rather than every 60 s: a burst run's teardown joins that thread, and
    would otherwise wait up to a minute."""

    def subscribe(self):
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=0.05, daemon=True, exception_handler=self._pubsub_exception_handler
        )


def main():
    port = int(sys.argv[1])
    r = Redis(host="127.0.0.1", port=port)
    r.flushall()
    out = {"rq_version": rq.__version__}

    q = Queue("default", connection=r)
    low = Queue("low", connection=r)

    add = q.enqueue(rq_jobs.add, 2, 3, job_id="add")
    q.enqueue(rq_jobs.concat, "go", "store", job_id="concat")
    q.enqueue(rq_jobs.boom, job_id="boom")
    q.enqueue(rq_jobs.flaky, "flaky:runs", 2, job_id="flaky", retry=Retry(max=3))
    q.enqueue(rq_jobs.flaky, "hopeless:runs", 5, job_id="hopeless", retry=Retry(max=1))
    dep = q.enqueue(rq_jobs.add, 100, 1, job_id="dep", depends_on=add)
    out["dep_status_before"] = dep.get_status()
    out["deferred_before"] = sorted(DeferredJobRegistry(queue=q).get_job_ids())

    # A unique job (rq's Lua script): the second enqueue is refused.
    q.enqueue(rq_jobs.add, 1, 1, job_id="uniq", unique=True)
    try:
        q.enqueue(rq_jobs.add, 1, 1, job_id="uniq", unique=True)
        out["unique_again"] = "accepted"
    except DuplicateJobError:
        out["unique_again"] = "rejected"

    # Scheduled: one already due (the worker's scheduler moves it), one
    # an hour away (stays scheduled).
    q.enqueue_at(datetime.now(timezone.utc) - timedelta(seconds=5), rq_jobs.add, 7, 7, job_id="due")
    q.enqueue_in(timedelta(hours=1), rq_jobs.add, 0, 0, job_id="later")

    # Another queue, emptied by rq's Lua script before any worker runs.
    for i in range(3):
        low.enqueue(rq_jobs.add, i, i, job_id=f"low{i}")
    out["low_len_before_empty"] = len(low)
    out["low_emptied"] = low.empty()
    out["low_len_after_empty"] = len(low)
    out["low_job_left"] = Job.exists("low0", connection=r)

    out["queued_before"] = q.get_job_ids()
    out["scheduled_before"] = sorted(ScheduledJobRegistry(queue=q).get_job_ids())

    worker = Worker([q], connection=r, name="rq-app-worker")
    out["worked"] = worker.work(burst=True, with_scheduler=True, logging_level="CRITICAL")

    jobs = {}
    for job_id in ["add", "concat", "boom", "flaky", "hopeless", "dep", "uniq", "due", "later"]:
        job = Job.fetch(job_id, connection=r)
        latest = job.latest_result()
        info = {
            "status": job.get_status(),
            "return_value": job.return_value(),
            "results": len(job.results()),
            "latest_result": latest.type.name if latest else None,
        }
        if latest is not None and latest.exc_string:
            info["exception"] = latest.exc_string.strip().splitlines()[-1]
        if job.retries_left is not None:
            info["retries_left"] = job.retries_left
        jobs[job_id] = info
    out["jobs"] = jobs
    out["queued_after"] = q.get_job_ids()
    out["finished"] = sorted(FinishedJobRegistry(queue=q).get_job_ids())
    out["failed"] = sorted(FailedJobRegistry(queue=q).get_job_ids())
    out["scheduled_after"] = sorted(ScheduledJobRegistry(queue=q).get_job_ids())
    out["deferred_after"] = sorted(DeferredJobRegistry(queue=q).get_job_ids())
    out["flaky_runs"] = int(r.get("flaky:runs"))
    out["hopeless_runs"] = int(r.get("hopeless:runs"))

    # The failed job, requeued and run again: it fails again.
    FailedJobRegistry(queue=q).requeue("boom")
    out["requeued"] = q.get_job_ids()
    Worker([q], connection=r, name="rq-app-worker-2").work(burst=True, logging_level="CRITICAL")
    boom = Job.fetch("boom", connection=r)
    out["boom_after_requeue"] = [boom.get_status(), len(boom.results())]

    # What rq left in the server: key names and types.
    keys = {}
    for k in r.scan_iter(count=1000):
        name = k.decode()
        keys[name] = r.type(k).decode()
    out["keys"] = dict(sorted(keys.items()))
    out["scripts_cached"] = r.info("memory").get("number_of_cached_scripts")
    print(json.dumps(out, indent=1, sort_keys=True, default=str))


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR)
    main()
