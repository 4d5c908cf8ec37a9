"""The job functions of rq_workload.py (a module of their own, so that the
worker finds them by name as it would in an application)."""

from rq import get_current_job


def add(a, b):
    return a + b


def concat(a, b):
    return a + b


def boom():
    raise ValueError("boom")


def flaky(counter_key, failures):
    """Fails its first `failures` runs (counted in Redis), then succeeds."""
    n = get_current_job().connection.incr(counter_key)
    if n <= failures:
        raise RuntimeError(f"attempt {n} fails")
    return n
