"""The pipeline on a Ray cluster: stateful actors hold the models, the driver keeps the store.

Each actor builds the whole pipeline once (models load once per worker, as with Ray Data's
stateful `map_batches` actors) and then runs batch after batch; the driver claims posts from
the store, sends them out a few batches ahead per actor, and receives results in batch order.
The store stays on the driver and is its only writer, so a post is saved exactly as the
local engine saves it: one transaction per batch, resumable after the driver dies.

Images travel by value: the driver reads each image's bytes and ships them with the post
through Ray's object store, so workers need no shared filesystem; a file the driver cannot
read fails that post with the same message the local engine gives. An actor that dies (its
node lost, the process killed) is restarted by Ray and the batch it held is run again
(`max_restarts`, `max_task_retries`); the driver only ever saves the result that came back.

Actors ask for `threads` CPUs each, and for one GPU each when the device is a GPU (Ray then
places them on GPU nodes and sets CUDA_VISIBLE_DEVICES); text stages run on the same actor.
"""

from __future__ import annotations

import os
import socket
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from groundlens.core.pipeline.types import ImageBytes, PostInput, PostResult
from groundlens.core.settings import Settings

IN_FLIGHT_PER_ACTOR = 2  # one batch running and one waiting, so an actor never idles on the driver
# A Ray started here for this run has this machine's CPUs and listens on loopback only: on Linux Ray
# binds to the node's network address unless told that this is no cluster (checked when ray is imported).
LOCAL_RAY = {"num_cpus": os.cpu_count()}
LOOPBACK_ONLY = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}


class ClusterError(RuntimeError):
    """Ray is missing, the cluster cannot be reached, or it has no room for one pipeline worker."""


def shipped(post: PostInput) -> PostInput:
    """The post with its image file replaced by the file's bytes (read here, on the driver)."""
    if not isinstance(post.image, (str, os.PathLike)):
        return post
    name = str(post.image)
    try:
        data, error = Path(post.image).read_bytes(), None
    except OSError as exc:
        data, error = None, str(exc)
    return PostInput(post.post_id, post.text, ImageBytes(name, data, error))


class PipelineWorker:
    """A Ray actor's state: the local engine, built once from the driver's settings (Ray hides the
    GPUs from an actor that asked for none, so 'auto' is then the CPU)."""

    def __init__(self, settings: dict[str, Any]) -> None:
        from groundlens.core.jobs.engine import LocalEngine

        self.engine = LocalEngine(Settings.from_dict(settings))

    def run(self, batch: list[PostInput]) -> list[PostResult]:
        return self.engine.pipeline.run(batch)

    def pid(self) -> int:
        return os.getpid()


def check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Fail in seconds on an address nobody listens at: Ray itself retries a dead address for minutes."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise ClusterError(f"a Ray address is HOST:PORT (or ray://HOST:PORT), not {address!r}")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise ClusterError(f"cannot reach the Ray cluster at {address}: {exc}") from None


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ClusterError("the Ray engine needs Ray: pip install 'groundlens[cluster]'") from None
    return ray


class RayEngine:
    name = "ray"

    def __init__(self, settings: Settings) -> None:
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # never report usage to anyone
        if not settings.ray_address:
            os.environ.update(LOOPBACK_ONLY)
        ray = _ray()
        self._started_here = not ray.is_initialized()
        if self._started_here:
            if settings.ray_address:
                check_reachable(settings.ray_address)
            try:
                ray.init(
                    address=settings.ray_address or "local",
                    include_dashboard=False,
                    log_to_driver=False,
                    configure_logging=False,
                    runtime_env={"env_vars": {"HF_HUB_DISABLE_PROGRESS_BARS": "1"}},
                    **({} if settings.ray_address else LOCAL_RAY),
                )
            except Exception as exc:  # noqa: BLE001 - connection refused, bad address, version mismatch...
                raise ClusterError(
                    f"cannot reach the Ray cluster at {settings.ray_address or 'a new local one'}:"
                    f" {type(exc).__name__}: {exc}"
                ) from None
        gpus = (
            1 if settings.device == "cuda" or (settings.device == "auto" and ray.cluster_resources().get("GPU")) else 0
        )
        cpus = max(1, settings.threads or 1)
        count = settings.ray_workers or max(
            1, int(ray.cluster_resources().get("GPU" if gpus else "CPU", 1) // (gpus or cpus))
        )
        actor = ray.remote(num_cpus=cpus, num_gpus=gpus, max_restarts=-1, max_task_retries=-1)(PipelineWorker)
        self.actors = [actor.remote(settings.to_dict()) for _ in range(count)]
        try:
            ray.get([a.pid.remote() for a in self.actors], timeout=600)  # models loaded, or say why not
        except Exception as exc:  # noqa: BLE001 - a model missing on a node, no room for the actors
            self.close()
            raise ClusterError(f"the pipeline workers could not start on the cluster: {exc}") from None

    def map_batches(self, batches: Iterable[list[PostInput]]) -> Iterator[list[PostResult]]:
        ray = _ray()
        pending: deque[Any] = deque()
        source = iter(batches)
        turn = 0
        while True:
            while len(pending) < IN_FLIGHT_PER_ACTOR * len(self.actors):
                batch = next(source, None)
                if batch is None:
                    break
                pending.append(self.actors[turn % len(self.actors)].run.remote([shipped(p) for p in batch]))
                turn += 1
            if not pending:
                return
            yield ray.get(pending.popleft())

    def close(self) -> None:
        ray = _ray()
        for actor in getattr(self, "actors", []):
            ray.kill(actor, no_restart=True)
        self.actors = []
        if self._started_here:
            ray.shutdown()
