"""Parts inspected side by side in worker processes, each on one core.

Threads of one process take turns at Python's interpreter lock: each of the network's layers takes
it to start, the search takes it between its products, and the line's own thread (record, sort) and
the folder watcher want it too. With two inspection threads on this 2-core machine each bottle part
took 137 ms in the line against 80 ms alone (docs/benchmarks.md, "Line mode"). A worker process
holds its own copy of the model and network and shares no lock with anyone, so the line's process
is left with what only it can do: watch, record, sort, report.

A worker is started by ``spawn`` (a fork of a process that already runs torch's and Qt's threads can
hang) and is given the model as the bytes of its file (:func:`~..core.model_file.model_to_bytes`), so
it opens exactly what the line opened and nothing is pickled but paths and results. The bytes go by a
private temporary file, not with the worker's start: ``spawn`` writes what it starts a process with into
a pipe whose reading end it holds itself until the write ends, so a worker that died as it started
(its program replaced under a running line, killed for memory) left a start of many megabytes waiting
for ever, and the line with it.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import tempfile
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Callable, List, Optional, Sequence

import psutil

from ..core import Cancelled, ImageResult, Inspector, PatchCoreError, PatchCoreModel
from ..core.errors import said_in_one_line
from ..core.memory import available_memory
from ..core.model_file import model_from_bytes, model_to_bytes

# how long a worker may take to load the model before the line gives up on its workers
STARTING_TIMEOUT_S = 300.0
#: Memory free, as a multiple of what the running workers hold, for a second set to start beside them
#: (a new bank may be larger; loading peaks above what a worker then holds).
ROOM_BESIDE = 1.5

# the one Inspector of a worker process, made by _start_worker, and the barrier its start-up meets
_inspector: Optional[Inspector] = None
_all_started: Optional[threading.Barrier] = None
# why this worker could not load the model (a failed initializer would only break the pool, saying nothing)
_start_error: Optional[str] = None


def _start_worker(model_file: str, weights: Optional[str], all_started: threading.Barrier) -> None:
    import torch
    from threadpoolctl import threadpool_limits

    global _inspector, _all_started, _start_error
    _all_started = all_started
    # a worker blocks reading its next parts from a pipe it holds both ends of, so it would outlive a
    # line killed with SIGKILL (or a power-cut-like crash) holding a core and a network's memory
    threading.Thread(target=_exit_with_parent, name="parent-watch", daemon=True).start()
    # Ctrl+C reaches the whole process group; the line finishes the parts in hand, so must its workers
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # one core each: the libraries' own thread pools on top would fight over the cores
    torch.set_num_threads(1)
    threadpool_limits(limits=1)
    try:
        _inspector = Inspector(model_from_bytes(Path(model_file).read_bytes(), "the line's model"), weights=weights)
    except Exception as exc:  # told to the line by _ready, as one line
        _start_error = said_in_one_line(exc)


def _workers_of(pool: Optional[ProcessPoolExecutor]) -> List[BaseProcess]:
    """The pool's processes, from its own record (gone from it once the pool is shut down)."""
    return list((getattr(pool, "_processes", None) or {}).values())


def _how_they_ended(workers: Sequence[BaseProcess]) -> str:
    """The dead workers' exit codes, or the signals that killed them (SIGKILL: most often the memory); empty
    where none is known. The pool ends the workers left with SIGTERM: not said."""
    said = set()
    deadline = time.monotonic() + 1.0  # a worker's pipe closes a moment before its exit code can be read
    for process in workers:
        process.join(max(0.0, deadline - time.monotonic()))
        code = process.exitcode
        while code is None and time.monotonic() < deadline:  # reaped by the pool's own thread: its code lands late
            time.sleep(0.01)
            code = process.exitcode
        if code is None or code == -signal.SIGTERM:
            continue
        if code < 0:
            said.add(f"killed by {signal.Signals(-code).name}" if -code in signal.valid_signals() else
                     f"killed by signal {-code}")
        else:
            said.add(f"exit code {code}")
    return ", ".join(sorted(said))


def _end(pool: ProcessPoolExecutor, workers: Optional[Sequence[BaseProcess]] = None) -> None:
    """The pool's ``workers`` (by default those it knows of) ended now, loading or not (they ignore Ctrl+C), and
    its threads with them: a pool left to end by itself left its semaphores for the program's exit to warn of.
    A worker that outlives its SIGTERM for a few seconds (stuck reading a lost share) is not waited for."""
    workers = _workers_of(pool) if workers is None else workers
    for worker in workers:
        worker.terminate()
    deadline = time.monotonic() + 5.0
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))
    pool.shutdown(wait=not any(worker.is_alive() for worker in workers), cancel_futures=True)


def _exit_with_parent() -> None:
    parent = multiprocessing.parent_process()
    if parent is not None:
        parent.join()
        os._exit(0)


def _ready() -> Optional[str]:
    """None once this worker has loaded the model, else why it could not."""
    # one of `count` such calls at once: each worker runs one at a time, so only when every worker
    # has loaded the model and taken one do they all pass
    assert _all_started is not None
    _all_started.wait(timeout=STARTING_TIMEOUT_S)
    return _start_error


def _inspect_in_worker(paths: Sequence[str]) -> List[ImageResult]:
    assert _inspector is not None, "worker not started"
    return list(_inspector.inspect_paths(paths))


class InspectionProcesses:
    """``count`` worker processes inspecting for one model; :meth:`inspect_paths` may be called from
    several threads at once (each call goes to the next free worker; calls beyond the workers wait their
    turn, and are tried again if the workers die). ``weights``: the network's weights file where it is not
    the one the model's network is found by (``patchcore watch --weights``).

    >>> with InspectionProcesses(model, 2) as workers:       # doctest: +SKIP
    ...     workers.inspect_paths([Path("part.png")])[0].inspection.score
    """

    def __init__(self, model: PatchCoreModel, count: int, weights: Optional[Path] = None,
                 on_restart: Callable[[str], None] = lambda text: None,
                 stopping: Callable[[], bool] = lambda: False, starting_timeout_s: float = STARTING_TIMEOUT_S) -> None:
        self.model = model
        self.count = count
        self.weights = None if weights is None else str(weights)
        self.starting_timeout_s = starting_timeout_s
        # told, from the inspecting thread, each time dead workers were started again (an operator
        # should hear of a worker killed or out of memory, even when no part is lost)
        self.on_restart = on_restart
        self._lock = threading.Lock()
        # a part tried once more holds the workers alone: had another part been in the workers when they
        # died again, either could have been the one that killed them, and an innocent part would fail
        self._turns = threading.Condition()
        self._parts_in_flight = 0
        self._retries_waiting = 0
        self._retry_running = False
        self._pool = self._started(stopping)
        self._workers = _workers_of(self._pool)  # as started: how they ended is told once they die

    def _started(self, stopping: Callable[[], bool] = lambda: False) -> ProcessPoolExecutor:
        """A pool whose every worker has loaded the model: a worker still loading would take no part,
        and the first worker ready would take them all (measured: two workers no faster than one).
        :class:`Cancelled` once ``stopping()`` while they load (their loading is ended)."""
        context = multiprocessing.get_context("spawn")
        pool: Optional[ProcessPoolExecutor] = None
        model_file: Optional[str] = None
        try:
            handle, model_file = tempfile.mkstemp(prefix="patchcore-line-model-", suffix=".patchcore")
            with open(handle, "wb") as written:
                written.write(model_to_bytes(self.model))
            pool = ProcessPoolExecutor(self.count, mp_context=context, initializer=_start_worker,
                                       initargs=(model_file, self.weights, context.Barrier(self.count)))
            problems = self._loaded(pool, stopping)
        except BrokenProcessPool:
            ended = _how_they_ended(_workers_of(pool))
            problems = [f"a process ended as it started ({ended + '; ' if ended else ''}its own words went to the "
                        "program's error output)"]
        except (threading.BrokenBarrierError, OSError) as exc:  # OSError: the disk full, the working folder gone
            problems = [said_in_one_line(exc)]
        finally:
            if model_file is not None:
                with contextlib.suppress(OSError):  # read by every worker that started; one may still hold it
                    os.remove(model_file)
        problem = next((problem for problem in problems if problem), None)
        if problem is not None:
            if pool is not None:
                _end(pool)
            raise PatchCoreError(f"the inspection processes could not start: {problem}")
        assert pool is not None
        return pool

    def _loaded(self, pool: ProcessPoolExecutor, stopping: Callable[[], bool]) -> List[Optional[str]]:
        """Why each worker could not load the model (None: it did), once every one has answered; one problem for
        them all if one has not within ``starting_timeout_s`` (a worker stuck opening a file on a share that does
        not answer would otherwise hold the line at its start for ever)."""
        readies = [pool.submit(_ready) for _ in range(self.count)]
        deadline = time.monotonic() + self.starting_timeout_s
        while wait(readies, timeout=0.1).not_done:
            if stopping():
                _end(pool)
                raise Cancelled("stopped while the inspection processes loaded the model")
            if time.monotonic() > deadline:
                return [f"a process had not loaded the model after {self.starting_timeout_s:g} s"]
        return [ready.result() for ready in readies]

    def inspect_paths(self, paths: Sequence[Path]) -> List[ImageResult]:
        """One result per path, in order, as :meth:`Inspector.inspect_paths` gives them.

        A worker that dies (killed, out of memory) is started again, and the parts it held are tried
        once more, each alone in the workers (new parts wait meanwhile): a part that kills its worker a
        second time fails by itself, with an error naming why, and the others are inspected."""
        with self._turns:  # parts tried once more go first, so that a line in full flow cannot starve them
            self._turns.wait_for(lambda: not self._retry_running and not self._retries_waiting)
            self._parts_in_flight += 1
            pool = self._pool
        try:
            return pool.submit(_inspect_in_worker, [str(path) for path in paths]).result()
        except BrokenProcessPool:
            self._restart(pool)
        finally:
            with self._turns:
                self._parts_in_flight -= 1
                self._turns.notify_all()
        return [self._once_more(Path(path)) for path in paths]

    def _once_more(self, path: Path) -> ImageResult:
        """``path`` inspected with no other part in the workers, so that their dying again is its doing."""
        with self._turns:
            self._retries_waiting += 1
            self._turns.wait_for(lambda: not self._retry_running and not self._parts_in_flight)
            self._retries_waiting -= 1
            self._retry_running = True
            pool = self._pool
        try:
            return pool.submit(_inspect_in_worker, [str(path)]).result()[0]
        except BrokenProcessPool:
            self._restart(pool)
            return ImageResult(path=path, error=f"cannot inspect '{path.name}': the inspection process stopped "
                                                "twice while it held this part (killed or out of memory)")
        finally:
            with self._turns:
                self._retry_running = False
                self._turns.notify_all()

    def _restart(self, dead: ProcessPoolExecutor) -> None:
        with self._lock:  # the threads that held parts in the dead pool restart it once
            if self._pool is dead:
                starting, dead_workers = time.perf_counter(), self._workers
                _end(dead, dead_workers)
                self._pool = self._started()
                self._workers = _workers_of(self._pool)
                ended = _how_they_ended(dead_workers)
                self.on_restart(f"error: an inspection process stopped (killed or out of memory"
                                f"{'; ' + ended if ended else ''}); the inspection processes were started again in "
                                f"{time.perf_counter() - starting:.1f} s and the parts they held are tried once more")

    def resident_bytes(self) -> int:
        """The memory the worker processes hold now: what a second set for another model will need."""
        total = 0
        for pid in [worker.pid for worker in self._workers]:
            try:
                total += psutil.Process(pid).memory_info().rss
            except psutil.Error:  # gone meanwhile
                pass
        return total

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> "InspectionProcesses":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class StartingBeside:
    """Worker processes for the model ``handed`` over, started on a thread of their own while the running
    workers go on inspecting (a bank changed by teaching held the line for 6 s while its workers loaded).
    ``on_done()`` is called once they are ready or have failed."""

    def __init__(self, handed: object, model: PatchCoreModel, count: int, weights: Optional[Path],
                 on_notice: Callable[[str], None], on_done: Callable[[], None]) -> None:
        self.handed = handed
        starter = ThreadPoolExecutor(1, thread_name_prefix="starting workers")
        self._future: "Future[InspectionProcesses]" = starter.submit(InspectionProcesses, model, count, weights,
                                                                     on_notice)
        starter.shutdown(wait=False)
        self._future.add_done_callback(lambda _: on_done())

    @property
    def ready(self) -> bool:
        return self._future.done() and self._future.exception() is None

    def problem(self) -> Optional[str]:
        """Why they could not start, once that is known; else None."""
        if not self._future.done() or self._future.exception() is None:
            return None
        exc = self._future.exception()
        return said_in_one_line(exc)

    def take(self) -> InspectionProcesses:
        return self._future.result()

    def discard(self) -> None:
        """No longer wanted (another model handed over, or the line stopping): closed once started."""
        self._future.add_done_callback(lambda done: done.exception() is None and done.result().close())


def room_beside(running: InspectionProcesses) -> Optional[str]:
    """None when a second set of workers fits in memory beside ``running``; else why not, in a few words."""
    need, free = running.resident_bytes(), available_memory()
    if free >= ROOM_BESIDE * need:
        return None
    return f"{free / 2 ** 30:.1f} GB free, the running ones hold {need / 2 ** 30:.1f} GB"
