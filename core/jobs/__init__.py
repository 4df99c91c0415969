"""Pipeline runs over the store's job queue, in a worker process (see runner.py for the API)."""

from core.jobs.progress import JobProgress
from core.jobs.runner import JobHandle, JobRunner

__all__ = ["JobHandle", "JobProgress", "JobRunner"]
