"""Pipeline runs over the store's job queue, in a worker process (see runner.py for the API)."""

from groundlens.core.jobs.progress import JobProgress
from groundlens.core.jobs.runner import JobHandle, JobRunner

__all__ = ["JobHandle", "JobProgress", "JobRunner"]
