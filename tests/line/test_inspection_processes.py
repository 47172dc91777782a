"""Side by side in worker processes: the same results as in this process, a dead worker, a dead line."""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import psutil
import pytest

from patchcore_gui.core import PatchCoreError, save_model
from patchcore_gui.line import InspectionLine, inspection_processes, runner
from patchcore_gui.line.runner import SessionMemory
from patchcore_gui.line.inspection_processes import InspectionProcesses

from . import dying_worker
from .conftest import FAST, drop

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def workers(inspector):
    with InspectionProcesses(inspector.model, 2) as started:
        yield started


def test_workers_give_what_the_inspector_gives_in_order(workers, inspector, synthetic_set, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    paths = [synthetic_set.test_defective[0], broken, synthetic_set.test_good[0]]
    here = list(inspector.inspect_paths(paths))
    there = workers.inspect_paths(paths)
    assert [r.path for r in there] == paths
    assert there[1].inspection is None and there[1].error == here[1].error and "broken.png" in there[1].error
    assert there[1].seconds is None and there[0].seconds > 0 and there[2].seconds > 0
    for mine, theirs in [(here[0], there[0]), (here[2], there[2])]:
        assert theirs.inspection.score == pytest.approx(mine.inspection.score, rel=1e-5)
        np.testing.assert_allclose(theirs.inspection.anomaly_map, mine.inspection.anomaly_map, rtol=1e-4, atol=1e-4)


def restarted(ended: str) -> str:
    """The operator's notice of workers started again after one ended as ``ended`` says."""
    return (r"^error: an inspection process stopped \(killed or out of memory; " + ended + r"\); the inspection "
            r"processes were started again in \d+\.\d s and the parts they held are tried once more$")


def test_a_part_held_by_a_killed_worker_is_inspected_by_the_worker_started_again(inspector, synthetic_set):
    notices = []
    with InspectionProcesses(inspector.model, 1, on_restart=notices.append) as one:
        pid = next(iter(one._pool._processes))
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
        again = one.inspect_paths([synthetic_set.test_good[0]])
        assert again[0].error is None and pid not in one._pool._processes
        expected = list(inspector.inspect_paths([synthetic_set.test_good[0]]))[0].inspection.score
        assert again[0].inspection.score == pytest.approx(expected, rel=1e-5)
    assert len(notices) == 1 and re.match(restarted("killed by SIGKILL"), notices[0]), notices  # the operator hears


def test_a_part_that_kills_its_worker_twice_fails_by_name_and_the_others_are_inspected(inspector, synthetic_set,
                                                                                         tmp_path, monkeypatch):
    monkeypatch.setattr(inspection_processes, "_inspect_in_worker", dying_worker.inspect_or_die)
    poison = tmp_path / "poison.png"
    poison.write_bytes(synthetic_set.test_good[1].read_bytes())
    paths = [synthetic_set.test_good[0], poison, synthetic_set.test_defective[0]]
    notices = []
    with InspectionProcesses(inspector.model, 1, on_restart=notices.append) as one:
        first = one._pool
        results = one.inspect_paths(paths)
        assert one._pool is not first
    assert len(notices) == 2 and all(re.match(restarted("exit code 3"), notice) for notice in notices), notices
    assert [r.path for r in results] == paths
    assert results[1].inspection is None
    assert results[1].error == ("cannot inspect 'poison.png': the inspection process stopped twice while it held "
                                "this part (killed or out of memory)")
    expected = [r.inspection.score for r in inspector.inspect_paths([paths[0], paths[2]])]
    assert [results[0].inspection.score, results[2].inspection.score] == pytest.approx(expected, rel=1e-5)


def test_a_part_in_the_workers_beside_one_that_kills_them_twice_is_inspected(inspector, synthetic_set, tmp_path,
                                                                             monkeypatch):
    monkeypatch.setattr(inspection_processes, "_inspect_in_worker", dying_worker.inspect_or_die)
    slow, poison = tmp_path / "slow.png", tmp_path / "poison.png"
    slow.write_bytes(synthetic_set.test_defective[0].read_bytes())
    poison.write_bytes(synthetic_set.test_good[1].read_bytes())
    results = {}
    with InspectionProcesses(inspector.model, 2) as two:
        # the slow part is in one worker when the poisoned one kills the other, and again when they retry
        beside = threading.Thread(target=lambda: results.update(slow=two.inspect_paths([slow])[0]))
        beside.start()
        time.sleep(dying_worker.SLOW_S / 3)
        results["poison"] = two.inspect_paths([poison])[0]
        beside.join()
    assert results["poison"].inspection is None and "stopped twice" in results["poison"].error
    assert results["slow"].error is None
    expected = list(inspector.inspect_paths([synthetic_set.test_defective[0]]))[0].inspection.score
    assert results["slow"].inspection.score == pytest.approx(expected, rel=1e-5)


def test_workers_that_cannot_load_the_model_say_why_in_one_line(inspector, tmp_path):
    with pytest.raises(PatchCoreError, match=r"^the inspection processes could not start: .*missing\.pth") as caught:
        InspectionProcesses(inspector.model, 2, tmp_path / "missing.pth")
    assert "\n" not in str(caught.value)


def test_workers_that_die_as_they_start_are_told_in_one_line_not_waited_for(inspector, tmp_path):
    """A worker spawned by a program whose file is gone (replaced under a running line) dies before it reads
    what it is started with; the model's megabytes were part of that and the start waited on them for ever."""
    model = save_model(inspector.model, tmp_path / "m.patchcore")
    program = tmp_path / "line_program.py"
    program.write_text("import os, sys\n"
                       "from pathlib import Path\n"
                       "from patchcore_gui.core import PatchCoreError, load_model\n"
                       "from patchcore_gui.line.inspection_processes import InspectionProcesses\n"
                       "if __name__ == '__main__':\n"
                       "    model = load_model(Path(sys.argv[1]))\n"
                       "    os.remove(__file__)\n"
                       "    try:\n"
                       "        InspectionProcesses(model, 2)\n"
                       "    except PatchCoreError as exc:\n"
                       "        print(exc)\n")
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    ended = subprocess.run([sys.executable, str(program), str(model)], capture_output=True, text=True, cwd=ROOT,
                           env={**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(temporary)}, timeout=120)
    assert ended.stdout.splitlines() == ["the inspection processes could not start: a process ended as it started "
                                         "(exit code 1; its own words went to the program's error output)"], (
        ended.stdout, ended.stderr[-2000:])
    assert "line_program.py" in ended.stderr  # the worker's own words
    assert not list(temporary.iterdir()), list(temporary.iterdir())  # the model's bytes for the workers not left


def test_workers_that_do_not_load_the_model_in_time_are_ended_and_told_in_one_line(inspector):
    """As workers stuck reading a share that does not answer: none loads the network in a fifth of a second."""
    before = {child.pid for child in psutil.Process().children()}
    with pytest.raises(PatchCoreError) as caught:
        InspectionProcesses(inspector.model, 2, starting_timeout_s=0.2)
    assert str(caught.value) == "the inspection processes could not start: a process had not loaded the model " \
                                "after 0.2 s"
    assert not _spawned_since(before)  # ended, not left loading


def test_how_dead_workers_ended_is_said_but_not_the_pool_s_own_sigterm():
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=time.sleep, args=(60,)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker, how in zip(workers, (signal.SIGKILL, signal.SIGTERM, signal.SIGKILL)):
        os.kill(worker.pid, how)
    assert inspection_processes._how_they_ended(workers) == "killed by SIGKILL"
    assert inspection_processes._how_they_ended([]) == ""


def test_a_line_side_by_side_in_processes_records_every_part_in_order(tmp_path, inspector, synthetic_set, run_line,
                                                                       monkeypatch):
    folder = tmp_path / "camera"
    folder.mkdir()
    memory = SessionMemory()
    # every call waits a while before its part reaches a worker, as a part queued beside a busy worker
    # does; the calls in flight at once are counted
    in_flight, most_in_flight, lock = [0], [0], threading.Lock()
    handing = InspectionProcesses.inspect_paths

    def held_back(self, paths):
        with lock:
            in_flight[0] += 1
            most_in_flight[0] = max(most_in_flight[0], in_flight[0])
        time.sleep(0.6)
        try:
            return handing(self, paths)
        finally:
            with lock:
                in_flight[0] -= 1

    monkeypatch.setattr(InspectionProcesses, "inspect_paths", held_back)
    # the model alone, as `patchcore watch` gives it: the workers load the network, the line's process does not
    line = InspectionLine(inspector.model, folder, memory, settings=replace(FAST, inspectors=2, processes=True))
    running = run_line(line)
    sources = synthetic_set.test_good[:3] + synthetic_set.test_defective[:3]
    for index, source in enumerate(sources):
        drop(source, folder, f"p{index}.png")
    results = running.wait_for(len(sources), timeout=120)
    running.stop()
    assert [r.path.name for r in results] == [f"p{index}.png" for index in range(len(sources))]
    expected = [r.inspection.score for r in inspector.inspect_paths(sources)]
    assert [r.score for r in results] == pytest.approx(expected, rel=1e-5)
    assert [r.verdict for r in results[3:]] == ["NG"] * 3
    assert not line.line_model.loaded
    # with a backlog each worker has a part queued beside the one it inspects
    assert most_in_flight[0] == 2 * (1 + FAST.queued_per_process)
    # the part's inspection time is the worker's, not the wait before it
    assert all(r.inspection_ms < 600 for r in results), [r.inspection_ms for r in results]


def test_a_line_given_the_model_alone_loads_it_where_it_inspects_one_part_at_a_time(tmp_path, inspector,
                                                                                    synthetic_set, run_line):
    folder = tmp_path / "camera"
    folder.mkdir()
    line = InspectionLine(inspector.model, folder, SessionMemory(), settings=replace(FAST, inspectors=1))
    assert not line.line_model.loaded
    running = run_line(line)
    drop(synthetic_set.test_defective[0], folder, "p.png")
    result = running.wait_for(1, timeout=120)[0]
    running.stop()
    assert line.line_model.loaded
    expected = list(inspector.inspect_paths([synthetic_set.test_defective[0]]))[0].inspection.score
    assert result.score == pytest.approx(expected, rel=1e-5)


def _workers_dead_for_good(tmp_path, inspector, synthetic_set, run_line, monkeypatch):
    """A line side by side in worker processes, one part inspected, then its workers killed and unable to start
    again (as when memory runs out): the running line and its folder."""
    made = []
    starting = InspectionProcesses.__init__

    def noting(self, *args, **kwargs):
        starting(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(InspectionProcesses, "__init__", noting)
    folder = tmp_path / "camera"
    folder.mkdir()
    line = InspectionLine(inspector.model, folder, SessionMemory(), settings=replace(FAST, inspectors=2, processes=True))
    running = run_line(line)
    drop(synthetic_set.test_good[0], folder, "p0.png")
    running.wait_for(1, timeout=120)

    def cannot_start(self):
        raise PatchCoreError("the inspection processes could not start: MemoryError")

    monkeypatch.setattr(InspectionProcesses, "_started", cannot_start)
    for pid in list(made[0]._pool._processes):
        os.kill(pid, signal.SIGKILL)
    return running, folder


def test_a_line_whose_workers_die_for_good_goes_on_in_its_own_process(tmp_path, inspector, synthetic_set, run_line,
                                                                        monkeypatch):
    running, folder = _workers_dead_for_good(tmp_path, inspector, synthetic_set, run_line, monkeypatch)
    sources = synthetic_set.test_good[1:3] + synthetic_set.test_defective[:2]
    for index, source in enumerate(sources, start=1):
        drop(source, folder, f"p{index}.png")
    results = running.wait_for(1 + len(sources), timeout=120)[1:]
    running.stop()
    assert [r.path.name for r in results] == [f"p{index}.png" for index in range(1, 1 + len(sources))]
    expected = [r.inspection.score for r in inspector.inspect_paths(sources)]
    assert [r.score for r in results] == pytest.approx(expected, rel=1e-5)  # none failed: all inspected here
    assert running.line.line_model.loaded
    assert any("MemoryError; the line goes on in its own process" in notice for notice in running.notices)


def test_a_line_that_cannot_inspect_in_its_own_process_either_ends_in_one_line_and_its_part_waits(
        tmp_path, inspector, synthetic_set, run_line, monkeypatch):
    running, folder = _workers_dead_for_good(tmp_path, inspector, synthetic_set, run_line, monkeypatch)

    def no_memory(self):
        raise MemoryError("cannot allocate the network")

    monkeypatch.setattr(runner.LineModel, "inspector", no_memory)
    drop(synthetic_set.test_defective[0], folder, "p1.png")
    running.thread.join(timeout=120)
    assert not running.thread.is_alive()
    assert isinstance(running.error, PatchCoreError)
    assert str(running.error) == ("the line cannot inspect in its own process either: "
                                  "MemoryError: cannot allocate the network")
    assert [r.path.name for r in running.results] == ["p0.png"]
    assert (folder / "p1.png").is_file()  # not inspected, not lost: the next start takes it


def test_a_line_stopped_while_its_workers_load_the_model_stops_then_and_ends_them(tmp_path, inspector, run_line):
    folder = tmp_path / "camera"
    folder.mkdir()
    line = InspectionLine(inspector.model, folder, SessionMemory(), settings=replace(FAST, inspectors=2, processes=True))
    before = {child.pid for child in psutil.Process().children()}
    running = run_line(line)
    running.wait_until(lambda: any(n.startswith("loading the model into 2") for n in running.notices))
    running.wait_until(lambda: len(_spawned_since(before)) >= 2)  # the workers are there, loading
    workers = _spawned_since(before)
    running.stop()  # raises what the line raised, if anything
    assert not any("inspection processes ready" in notice for notice in running.notices), running.notices
    psutil.wait_procs(workers, timeout=10)
    assert not any(worker.is_running() for worker in workers)


def _spawned_since(before):
    """This process's worker processes started since ``before`` (a set of pids), as psutil sees them."""
    spawned = []
    for child in psutil.Process().children():
        try:
            if child.pid not in before and "spawn_main" in " ".join(child.cmdline()):
                spawned.append(child)
        except psutil.Error:  # ended meanwhile
            pass
    return spawned


def test_a_line_whose_workers_cannot_load_the_network_ends_with_one_line(tmp_path, inspector):
    folder = tmp_path / "camera"
    folder.mkdir()
    line = InspectionLine(inspector.model, folder, SessionMemory(), settings=replace(FAST, inspectors=2, processes=True),
                          weights=tmp_path / "missing.pth")
    with pytest.raises(PatchCoreError, match=r"^the inspection processes could not start: .*missing\.pth"):
        line.run()
    assert not line.line_model.loaded


def test_workers_end_with_a_line_killed_by_sigkill(inspector, tmp_path):
    """A worker waits on a pipe it holds both ends of: without its watch on the line it would live on."""
    model = save_model(inspector.model, tmp_path / "m.patchcore")
    script = ("import sys, time\n"
              "from pathlib import Path\n"
              "from patchcore_gui.core import load_model\n"
              "from patchcore_gui.line.inspection_processes import InspectionProcesses\n"
              "if __name__ == '__main__':\n"
              "    workers = InspectionProcesses(load_model(Path(sys.argv[1])), 2)\n"
              "    print(*workers._pool._processes, flush=True)\n"
              "    time.sleep(600)\n")
    line = subprocess.Popen([sys.executable, "-c", script, str(model)], stdout=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        pids = [int(pid) for pid in line.stdout.readline().split()]
        assert len(pids) == 2 and all(_alive(pid) for pid in pids)
    finally:
        line.kill()
        line.wait()
    deadline = time.monotonic() + 20
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in pids)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a worker that has exited but was not yet reaped by its (dead) parent's init is gone too
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


def test_a_model_with_a_bank_of_its_own_starts_its_workers_beside_the_running_ones(tmp_path, inspector, synthetic_set,
                                                                                   run_line, monkeypatch):
    folder = tmp_path / "camera"
    folder.mkdir()
    line = InspectionLine(inspector.model, folder, SessionMemory(), settings=replace(FAST, inspectors=2, processes=True))
    running = run_line(line)
    running.wait_until(line.ready.is_set, timeout=120)
    # the new model's workers are held at their start until the test lets them go
    let_go, start = threading.Event(), InspectionProcesses.__init__

    def held(self, *args, **kwargs):
        let_go.wait(120)
        start(self, *args, **kwargs)

    monkeypatch.setattr(InspectionProcesses, "__init__", held)
    model = inspector.model
    tuned = replace(model, memory_bank=model.memory_bank[::2].copy()).with_threshold(1e6)  # another bank
    taken = threading.Event()
    line.take_up(tuned, then=taken.set)
    running.wait_until(lambda: any(n.startswith("starting the new model's 2 inspection processes beside")
                                   for n in running.notices))
    for index in range(3):  # inspected meanwhile by the running workers, with the model they have
        drop(synthetic_set.test_defective[index], folder, f"meanwhile{index}.png")
    results = running.wait_for(3, timeout=120)
    assert [(r.verdict, r.threshold) for r in results] == [("NG", model.threshold)] * 3 and not taken.is_set()
    let_go.set()
    running.wait_until(taken.is_set, timeout=120)
    drop(synthetic_set.test_defective[0], folder, "after.png")
    results = running.wait_for(4, timeout=120)
    assert (results[3].verdict, results[3].threshold) == ("OK", 1e6)
    assert not any(n.startswith("loading the model into") for n in running.notices[1:])  # no wait for a load
    running.stop()


def test_without_memory_for_a_second_set_the_line_waits_while_the_new_workers_load(tmp_path, inspector, synthetic_set,
                                                                                   run_line, monkeypatch):
    monkeypatch.setattr(runner, "room_beside", lambda running: "0.1 GB free, the running ones hold 0.8 GB")
    folder = tmp_path / "camera"
    folder.mkdir()
    line = InspectionLine(inspector.model, folder, SessionMemory(), settings=replace(FAST, inspectors=2, processes=True))
    running = run_line(line)
    running.wait_until(line.ready.is_set, timeout=120)
    tuned = replace(inspector.model, memory_bank=inspector.model.memory_bank[::2].copy()).with_threshold(1e6)
    taken = threading.Event()
    line.take_up(tuned, then=taken.set)
    running.wait_until(taken.is_set, timeout=120)
    drop(synthetic_set.test_defective[0], folder, "after.png")
    assert [(r.verdict, r.threshold) for r in running.wait_for(1, timeout=120)] == [("OK", 1e6)]
    assert any(n.startswith("the new model's inspection processes start once the running ones stop, new parts "
                            "waiting meanwhile: not enough memory for both (0.1 GB free") for n in running.notices)
    assert sum(n.startswith("loading the model into 2 inspection processes") for n in running.notices) == 2
    running.stop()
