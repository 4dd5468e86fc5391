"""The render farm: shard tasks on Ray, on a local instance started for the run or on a cluster.

Only this module imports ray. One task renders one shard (``shards.job.shard_task.render_shard``) and
writes it straight to the output; the driver keeps at most ``max_in_flight`` tasks submitted
(``ray.wait``), records completions, and

- retries a task whose worker died (OOM, SIGKILL, node loss) or that raised, up to
  ``task_retries`` times (Ray's own retries are off so that every retry is counted);
- cancels (force-kills) and retries a task running longer than ``task_timeout_s``;
- stops a run whose clip failed more draws than ``max_redraws`` allows (a retry would fail alike);
- on Ctrl-C (or any error) leaves the Ray session, which stops the tasks in flight (the local
  instance is shut down with its workers; a cluster kills the workers of a job whose driver has
  gone); the caller then removes temporary files; finished shards stay.

GPUs: when the cluster has GPUs, each task asks for ``gpus_per_task`` (default 1; a fraction
packs several tasks on one GPU) and renders on the EGL device with the index of the GPU Ray
assigned (the driver's numbering, which is also EGL's on NVIDIA-only nodes). A request that no
node can satisfy is refused before any task is submitted: Ray would leave it pending forever.

Joining a cluster (``--address``) uses the caller's Ray settings as they are: the token of the
cluster (``RAY_AUTH_TOKEN`` or ``~/.ray/auth_token``) and ``RAY_AUTH_MODE=token`` for an explicit
address. Ray caches the token it loaded for the life of the process, so one process should not
mix a local instance with joining a cluster (the CLI runs each job in its own process).

A local instance keeps its files under a fresh private ``/tmp/wc-ray-*`` directory (mode 0700,
removed at the end; what a killed driver left there is removed by the next run, see ``processes``),
uses token authentication with a token made for this process (nothing is written to
``~/.ray``), starts without the dashboard UI and reports no usage statistics.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import secrets
import shutil
import signal
import socket
import sys
import threading
import time
from collections import deque
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

import ray

from worldclips.scenes.asset_cache import AssetCache
from worldclips.shards.job.config import GenerateConfig
from worldclips.shards.job.shard_task import ClipsFailed, FaultHooks, job_tools, render_shard
from worldclips.shards.job.processes import (
    descendants, make_instance_folder, process_name, remove_dead_instances, running, wait_until_gone,
)
from worldclips.shards.job.resume import ShardOutcome
from worldclips.shards.format.schema import shard_name
from worldclips.shards.format.storage import open_storage

CPUS_PER_TASK = 1.0
POLL_S = 0.5  # how often the driver looks at the clock while waiting for completions
PROCESS_EXIT_WAIT_S = 10.0  # after ray.shutdown, for the local instance's processes to end
OBJECT_STORE_BYTES = 256 << 20  # outcomes are tiny; the shards go straight to storage
_TOKEN = secrets.token_hex(32)  # one per driver process: Ray caches the token it loads


class FarmError(RuntimeError):
    """The run cannot go on (unsatisfiable resources, a shard that keeps failing); one line."""


# ---------------------------------------------------------------------------------------------
# Worker side


# One Ray worker process's body model, renderer and asset cache per config, made on its first
# task and kept for the next ones (the only state kept at module level: it lives and dies with
# the worker process and holds nothing that changes what a clip contains).
_TOOLS: dict[tuple, tuple] = {}


def _gpu_device_index() -> int | None:
    """The EGL device of the GPU Ray assigned to this task (None: no GPU, render on the CPU)."""
    ids = ray.get_gpu_ids()
    if not ids:
        return None
    try:
        return int(ids[0])
    except (TypeError, ValueError):  # GPUs named by UUID: no index to map, EGL's default device
        return None


def _worker_tools(config: GenerateConfig) -> tuple:
    """The body model, renderer and asset cache (decoded HDRI maps) of this worker process, made
    once and reused across shards."""
    device_index = _gpu_device_index()
    if device_index is None and "LP_NUM_THREADS" not in os.environ:
        # Rendering on the CPU (Mesa llvmpipe): as many raster threads as the task has CPUs, not
        # one per core of the node, so that workers side by side do not fight over the cores.
        cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", CPUS_PER_TASK)
        os.environ["LP_NUM_THREADS"] = str(max(1, int(cpus)))
    key = (config.smplx_model_dir, config.backend, config.width, config.height, device_index)
    if key not in _TOOLS:
        for _, old_renderer, _ in _TOOLS.values():
            old_renderer.release()
        _TOOLS.clear()
        _TOOLS[key] = (*job_tools(config, device_index), AssetCache())
    return _TOOLS[key]


@ray.remote
def _shard_task(config: GenerateConfig, shard_index: int, versions: dict, hooks: FaultHooks | None) -> ShardOutcome:
    body, renderer, assets = _worker_tools(config)
    outcome = render_shard(config, shard_index, versions, open_storage(config.out), body, renderer, hooks, assets)
    device_index = _gpu_device_index()
    if device_index is not None:
        outcome = dataclasses.replace(outcome, device=f"{outcome.device}; EGL device {device_index}")
    return outcome


# ---------------------------------------------------------------------------------------------
# Driver side


@dataclass
class _Task:
    shard: int
    attempt: int
    submitted: float
    started: float | None = None


@contextmanager
def _local_ray_environment() -> Iterator[None]:
    """Token auth with this process's token (nothing in ~/.ray) and no usage reporting."""
    wanted = {"RAY_USAGE_STATS_ENABLED": "0"}
    if not any(name in os.environ for name in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH")):
        # ray.init turns token auth on for a new local instance and finds the token here, so it
        # does not make one and save it to ~/.ray/auth_token.
        wanted["RAY_AUTH_TOKEN"] = _TOKEN
    saved = {name: os.environ.get(name) for name in (*wanted, "RAY_AUTH_MODE")}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def ray_session(config: GenerateConfig) -> Iterator[dict]:
    """Join the cluster at ``config.address`` or start a local instance; leave (or stop it) at the end."""
    info: dict = {}
    started = time.perf_counter()
    if ray.is_initialized():  # the caller's own Ray session (e.g. a notebook): use it, leave it running
        info["cluster"] = "existing session"
        info["startup_s"] = 0.0
        yield info
        return
    options = {"log_to_driver": False, "logging_level": logging.ERROR, "include_dashboard": False}
    if config.address:
        check_reachable(config.address)
        try:
            ray.init(address=config.address, **options)
        except Exception as error:
            message = " ".join(str(error).split())[:300]
            raise FarmError(f"address: cannot join the Ray cluster at {config.address} ({message})") from error
        info["cluster"] = f"joined {config.address}"
        temp_dir = None
    else:
        remove_dead_instances()  # what a killed driver's instance left behind
        temp_dir = make_instance_folder()
        children_before = descendants(os.getpid())
        with _local_ray_environment():
            try:
                ray.init(  # Ray opens its own folder to everyone (0777): it sits inside our private one
                    num_cpus=config.workers or os.cpu_count() or 1, _temp_dir=os.path.join(temp_dir, "ray"),
                    object_store_memory=OBJECT_STORE_BYTES, **options,
                )  # fmt: skip
            except BaseException:
                shutil.rmtree(temp_dir, ignore_errors=True)
                raise
        info["cluster"] = "local instance"
        ray_roots = descendants(os.getpid()) - children_before  # GCS, raylet, ... of this instance
    info["startup_s"] = round(time.perf_counter() - started, 3)
    # Ray's core worker installs a handler that dumps a C++ stack on SIGTERM: end like Ctrl-C instead.
    in_main = threading.current_thread() is threading.main_thread()
    received: list[int] = []  # SIGTERM arrived (Ray's own code may turn our Terminated into a plain KeyboardInterrupt)

    def on_sigterm(signum, frame) -> None:
        received.append(signum)
        raise Terminated()

    previous_sigterm = signal.signal(signal.SIGTERM, on_sigterm) if in_main else None
    watchdog = None if temp_dir is None else _NodeWatchdog({pid for pid in ray_roots if process_name(pid) in NODE_PROCESSES})
    try:
        yield info
    except KeyboardInterrupt as interrupt:
        if received and not isinstance(interrupt, Terminated):
            raise Terminated() from interrupt
        raise
    finally:
        if watchdog is not None:
            watchdog.stop()  # before the instance is stopped on purpose
        if in_main:
            signal.signal(signal.SIGTERM, previous_sigterm if previous_sigterm is not None else signal.SIG_DFL)
        if temp_dir is None:
            ray.shutdown()
        else:
            # Every process of the instance (workers, agents) is below its GCS and raylet; wait for
            # all of them to be gone, or one still exiting writes into the directory once removed.
            instance = ray_roots | {pid for root in ray_roots for pid in descendants(root)}
            ray.shutdown()
            wait_until_gone(instance, PROCESS_EXIT_WAIT_S)
            for _ in range(20):
                shutil.rmtree(temp_dir, ignore_errors=True)
                if not os.path.exists(temp_dir):
                    break
                time.sleep(0.1)


class Terminated(KeyboardInterrupt):
    """SIGTERM during a run: unwinds like Ctrl-C (finished shards kept, partial files removed)."""



ADDRESS_CONNECT_TIMEOUT_S = 5.0


def check_reachable(address: str) -> None:
    """Refuse at once a ``host:port`` (or ``ray://host:port``) where nothing listens: Ray itself
    retries for minutes. Other forms (``auto``) are left to Ray."""
    target = address.removeprefix("ray://")
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=ADDRESS_CONNECT_TIMEOUT_S).close()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise FarmError(f"address: cannot reach a Ray cluster at {address} ({reason}); expected the head "
                        "node's host:port (e.g. 10.0.0.5:6379) with Ray running there") from None  # fmt: skip


NODE_PROCESSES = ("gcs_server", "raylet")  # the node itself; a worker that dies is retried instead
NODE_DIED_MESSAGE = (
    "worldclips: error: the local Ray node died ({what}); the finished shards are kept: "
    "rerun the same command with --resume to finish the run"
)


class _NodeWatchdog:
    """Watches the local instance's own processes (GCS, raylet...): when one dies, Ray's core
    worker ends the driver abruptly with a C++ log line; this says in one line what happened
    and how to finish the run first, then exits with status 1."""

    POLL_S = 0.05

    def __init__(self, roots: set[int]):
        self.roots = set(roots)
        self.names = {pid: process_name(pid) for pid in self.roots}
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="worldclips-ray-watchdog", daemon=True)
        if self.roots:
            self._thread.start()

    def stop(self) -> None:
        self._stopped.set()

    def _watch(self) -> None:
        while not self._stopped.wait(self.POLL_S):
            gone = sorted(pid for pid in self.roots if not running(pid))
            if gone and not self._stopped.is_set():
                what = ", ".join(f"{self.names[pid]} pid {pid} gone" for pid in gone)
                print(NODE_DIED_MESSAGE.format(what=what), file=sys.stderr, flush=True)
                os._exit(1)


def _alive_nodes() -> list[dict]:
    return [node.get("Resources", {}) for node in ray.nodes() if node.get("Alive")]


def plan_resources(config: GenerateConfig) -> tuple[float, int]:
    """(GPUs per task, tasks that can run at once); refuses a request that no node can satisfy."""
    nodes = _alive_nodes()
    cpus = sum(n.get("CPU", 0.0) for n in nodes)
    gpus = sum(n.get("GPU", 0.0) for n in nodes)
    gpus_per_task = float(config.gpus_per_task) if config.gpus_per_task is not None else (1.0 if gpus > 0 else 0.0)
    cluster = f"cluster: {len(nodes)} node(s), {cpus:g} CPUs, {gpus:g} GPUs"
    if gpus_per_task > 0 and not any(n.get("GPU", 0.0) >= gpus_per_task for n in nodes):
        raise FarmError(
            f"gpus_per_task: each shard task asks for {gpus_per_task:g} GPU but no node of the Ray cluster has "
            f"{'one' if gpus_per_task <= 1 else f'{gpus_per_task:g}'} ({cluster}); pass --gpus-per-task 0 to render on CPUs"
        )
    slots = 0
    for node in nodes:
        per_node = int(node.get("CPU", 0.0) // CPUS_PER_TASK)
        if gpus_per_task > 0:
            per_node = min(per_node, int(node.get("GPU", 0.0) / gpus_per_task + 1e-9))
        slots += per_node
    if slots < 1:
        raise FarmError(f"workers: no node of the Ray cluster can run a shard task ({CPUS_PER_TASK:g} CPU each; {cluster})")
    if config.workers is not None:
        slots = min(slots, config.workers)
    return gpus_per_task, slots


def _describe_failure(error: BaseException) -> str:
    cause = getattr(error, "cause", None)
    if isinstance(error, ray.exceptions.TaskCancelledError):
        return "cancelled"
    if isinstance(error, (ray.exceptions.WorkerCrashedError, ray.exceptions.OutOfMemoryError)):
        return f"worker died ({type(error).__name__}: killed, out of memory or crashed)"
    if isinstance(error, ray.exceptions.NodeDiedError):
        return "node died"
    source = cause if isinstance(cause, BaseException) else error
    text = " ".join(str(source).split())
    if source is error and isinstance(error, ray.exceptions.RayTaskError):
        text = text.splitlines()[0] if text else ""
    return f"{type(source).__name__}: {text}"[:300]


def _is_clip_failure(error: BaseException) -> bool:
    return isinstance(error, ClipsFailed) or isinstance(getattr(error, "cause", None), ClipsFailed)


class Farm:
    """A Ray session for one run: ``with Farm(config) as farm: farm.run(shards, ...)``.

    Entering starts (or joins) Ray and checks that the cluster can run the shard tasks at all,
    before anything is written; leaving stops the local instance (or disconnects).
    """

    def __init__(self, config: GenerateConfig):
        self.config = config
        self._stack = ExitStack()

    def __enter__(self) -> "Farm":
        with ExitStack() as stack:
            self.session = stack.enter_context(ray_session(self.config))
            self.gpus_per_task, self.slots = plan_resources(self.config)
            self._stack = stack.pop_all()
        config = self.config
        if config.max_in_flight is not None:
            self.max_in_flight = config.max_in_flight
        elif config.address and config.workers is not None:
            self.max_in_flight = self.slots  # on a cluster, --workers caps the tasks running at once
        else:
            self.max_in_flight = 2 * self.slots  # one queued behind each running task: no idle gap
        return self

    def __exit__(self, *exc) -> bool | None:
        return self._stack.__exit__(*exc)

    def run(
        self, shards: list[int], versions: dict, hooks: FaultHooks | None, on_outcome: Callable[[ShardOutcome], None]
    ) -> dict:
        """Render ``shards``; calls ``on_outcome`` for each finished shard; returns the run's facts."""
        stats = _drive(
            self.config, shards, versions, hooks, on_outcome, self.gpus_per_task, self.slots, self.max_in_flight
        )
        return {
            "mode": "ray",
            "cluster": self.session["cluster"],
            "workers": self.slots,
            "gpus_per_task": self.gpus_per_task,
            "max_in_flight": self.max_in_flight,
            "startup_s": self.session["startup_s"],
            **stats,
        }


def _drive(
    config: GenerateConfig, shards: list[int], versions: dict, hooks: FaultHooks | None,
    on_outcome: Callable[[ShardOutcome], None], gpus_per_task: float, slots: int, max_in_flight: int,
) -> dict:  # fmt: skip
    remote = _shard_task.options(num_cpus=CPUS_PER_TASK, num_gpus=gpus_per_task, max_retries=0, retry_exceptions=False)
    config_ref = ray.put(config)
    pending: deque[tuple[int, int]] = deque((shard, 0) for shard in shards)
    in_flight: dict = {}  # ObjectRef -> _Task, in submission order
    retries = timeouts = 0
    retry_log: list[dict] = []

    def retry(task: _Task, reason: str) -> None:
        nonlocal retries
        name = shard_name(task.shard)
        if task.attempt >= config.task_retries:
            raise FarmError(f"{name}: failed {task.attempt + 1} times (task_retries {config.task_retries}); last error: {reason}")
        retries += 1
        retry_log.append({"shard": task.shard, "attempt": task.attempt, "reason": reason})
        pending.appendleft((task.shard, task.attempt + 1))

    # On Ctrl-C, or a run that cannot go on, the exception leaves this loop with tasks in flight.
    # They are not cancelled one by one (Ray 2.60 can abort the driver when a task finishes while
    # it is being cancelled): leaving the session stops them, since stopping the local instance
    # kills its workers and a cluster kills the workers of a job whose driver has gone.
    while pending or in_flight:
        while pending and len(in_flight) < max_in_flight:
            shard, attempt = pending.popleft()
            ref = remote.remote(config_ref, shard, versions, hooks)
            in_flight[ref] = _Task(shard, attempt, time.monotonic())
        now = time.monotonic()
        for task in list(in_flight.values())[:slots]:  # the oldest tasks are the ones running
            if task.started is None:
                task.started = now
        ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=POLL_S)
        for ref in ready:
            task = in_flight.pop(ref)
            try:
                outcome = ray.get(ref)
            except Exception as error:
                if _is_clip_failure(error):
                    cause = getattr(error, "cause", None)
                    raise ClipsFailed(f"{shard_name(task.shard)}: {cause if cause is not None else error}") from None
                retry(task, _describe_failure(error))
                continue
            on_outcome(outcome)
        now = time.monotonic()
        for ref, task in list(in_flight.items()):
            if task.started is not None and now - task.started > config.task_timeout_s:
                ray.cancel(ref, force=True)
                del in_flight[ref]
                timeouts += 1
                retry(task, f"timed out after {config.task_timeout_s:g} s")
    return {"retries": retries, "timeouts": timeouts, "retried": retry_log}
