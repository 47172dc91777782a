"""What the line tells the plant's own equipment: a stack light, a horn, a reject gate, a PLC's gateway.

How a line PC reaches its line differs from plant to plant (a digital I/O card and its vendor's tool, a relay on a
USB port, a Modbus or OPC UA gateway, a message to the line's MES), and none of it is this program's to know. So the
line runs one program the plant chooses, its *signal command*, once for each event, in the order they happened:

- a part concluded (recorded, then sorted): ``COMMAND ng PART`` (``ok``, ``review``, ``error`` likewise; ``ok`` only
  when asked: most equipment acts on the parts that are not good, and a program started per good part costs the
  line's PC);
- a person's verdict on one of the line's parts (a REVIEW part passed or failed, a false reject passed), made in
  the window, with ``patchcore log --decide`` or at another PC of a plant's record: ``COMMAND decided-ok PART``
  (``decided-ng``), looked for every :data:`~.runner.DECISIONS_EVERY_S` seconds;
- the line's state: ``COMMAND line-started DETAIL`` once it inspects, ``COMMAND line-stopped DETAIL`` when it ends,
  ``model-taken-up`` and ``threshold-moved`` with the rule now in force,
  and every entry the line puts into the record's audit trail under its name in lower case, spaces as dashes
  (``ng-parts-in-a-row``, ``an-ok-part-after-ng-parts-in-a-row``, ``parts-unlike-the-good-parts``,
  ``parts-like-the-good-parts-again``, ``shift-started``, ``camera-folder-gone``, ``camera-folder-back``,
  ``disk-nearly-full``, ``sorted-ok-images-removed``, ...).

The event's particulars are also in its environment (``PATCHCORE_EVENT``, ``PATCHCORE_TIME``, and for a part
``PATCHCORE_PART``, ``PATCHCORE_VERDICT``, ``PATCHCORE_SCORE``, ``PATCHCORE_THRESHOLD``, ``PATCHCORE_SORTED_TO``;
for a decision ``PATCHCORE_PART``, ``PATCHCORE_VERDICT`` (the person's), ``PATCHCORE_MACHINE_VERDICT``,
``PATCHCORE_PERSON``, ``PATCHCORE_NOTE``, ``PATCHCORE_SORTED_TO``; for the line's state ``PATCHCORE_DETAIL``), so
that a script reads what it needs by name.

A program started for every event costs the line's PC its start each time: nothing for NG parts and warnings, but
a Python script told of every part at 10 parts/s took the 2-core PC's last idle share and fell behind
(docs/benchmarks.md). With ``held_open`` the command is started once, when the line starts, and each event is
written to its standard input as one line of JSON (``{"event": "ng", "part": ..., "verdict": "NG", "score": 3.25,
...}``, the same particulars by the same names in lower case); a program that holds its connection to a PLC open
wants this anyway. One that ends is started again at the next event; at the line's end its input is closed, and it
is ended if it has not ended itself :data:`SIGNAL_TIMEOUT_S` later.

The commands run one at a time on a thread of their own: a slow or hanging one never holds the inspection (it is
ended after :data:`SIGNAL_TIMEOUT_S`), and at most :data:`SIGNALS_WAITING` events wait for it; the line says once
when the command fails or falls behind, and once when it works again, not at every part, each also into the
audit trail. The command comes from the operator's settings or the command line, never from a model file.
"""

from __future__ import annotations

import json
import os
import queue
import shlex
import shutil
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Deque, Dict, List, Optional, Sequence, Tuple, Union, cast

from ..core.errors import PatchCoreError
from .handover import take_all

#: Seconds a signal command may run before it is ended and counted as failed.
SIGNAL_TIMEOUT_S = 10.0
#: Events kept waiting for a command still busy with an earlier one; past that they are dropped and counted.
SIGNALS_WAITING = 1000
#: Seconds the line's end waits for the events still waiting (its own ``line-stopped`` among them).
SENT_AT_THE_END_S = 2 * SIGNAL_TIMEOUT_S
#: The part's verdicts sent whatever is asked; ``OK`` too with ``ok_parts``.
SIGNALLED_VERDICTS = ("NG", "REVIEW", "ERROR")
LINE_STARTED, LINE_STOPPED = "line-started", "line-stopped"
#: the audit trail's entry for what went wrong with the command (``patchcore log --changes``)
SIGNAL_COMMAND_AUDITED = "signal command"
# no console window flashing up over the operator's screen for every NG part on Windows
_QUIET = {"creationflags": subprocess.CREATE_NO_WINDOW} if os.name == "nt" else {}


def parse_signal_command(text: str, posix: bool = os.name != "nt") -> Tuple[str, ...]:
    """The program and its first arguments as typed (quoted as a shell of this system quotes: on Windows a path's
    backslashes stay, double quotes group words); the program must be one this PC can run, else
    :class:`PatchCoreError` in one line."""
    try:
        words = tuple(shlex.split(text, posix=posix))
    except ValueError as exc:
        raise PatchCoreError(f"the signal command {text!r} cannot be read: {exc}") from None
    if not posix:  # shlex keeps a quoted word's quotes there: "C:\Program Files\light.exe" is no file's name
        words = tuple(word[1:-1] if len(word) > 1 and word[0] == word[-1] == '"' else word for word in words)
    if not words:
        return ()
    if shutil.which(words[0]) is None:
        raise PatchCoreError(f"the signal command's program '{words[0]}' is not a program this PC can run "
                             "(not found, or not executable)")
    return words


def event_name(kind: str) -> str:
    """An audit-trail entry's name as the signal command's event: ``"NG parts in a row"`` -> ``ng-parts-in-a-row``."""
    return "-".join(kind.lower().split())


Particular = Union[str, float, None]


@dataclass(frozen=True)
class LineEvent:
    """One event for the signal command: its name, its arguments after the name, its particulars by name."""

    name: str
    arguments: Tuple[str, ...]
    particulars: Tuple[Tuple[str, Particular], ...]

    def environment(self) -> Dict[str, str]:
        """``PATCHCORE_EVENT`` and each particular as ``PATCHCORE_NAME``, numbers to 6 digits, none as empty."""
        said = {"PATCHCORE_EVENT": self.name}
        for name, value in self.particulars:
            said[f"PATCHCORE_{name.upper()}"] = "" if value is None else value if isinstance(value, str) \
                else f"{value:.6g}"
        return said

    def json_line(self) -> bytes:
        return (json.dumps({"event": self.name, **dict(self.particulars)}) + "\n").encode("utf-8")


class SignalCommand:
    """Runs ``command`` for the line's events (or, ``held_open``, writes them to its input), in order, on a thread of
    its own from :meth:`start` to :meth:`close`; :meth:`part` and :meth:`state` return at once. What went wrong is
    kept for the line's thread to say (:meth:`take_said`)."""

    def __init__(self, command: Sequence[str], ok_parts: bool = False, held_open: bool = False,
                 timeout_s: float = SIGNAL_TIMEOUT_S, waiting: int = SIGNALS_WAITING) -> None:
        self.command = tuple(command)
        self.ok_parts = ok_parts
        self.held_open = held_open
        self._program: Optional[subprocess.Popen] = None  # held open: the running program
        self._ended_said = False  # held open: that it ended by itself was said
        self.timeout_s = timeout_s
        self._events: "queue.Queue[Optional[LineEvent]]" = queue.Queue(maxsize=waiting)
        self._said: Deque[str] = deque()
        self._failed = 0  # runs in a row that failed
        self._dropped = 0  # events dropped since the command last caught up
        self._lock = threading.Lock()  # _dropped, between the line and the sender
        self._thread: Optional[threading.Thread] = None
        self._given_up = threading.Event()  # the line's end waited long enough: what still waits is not sent
        #: events the command ran for and ended with exit code 0 (held open: written to its input)
        self.sent = 0

    # -- from the line's thread ---------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._send_all, name="signal command", daemon=True)
            self._thread.start()

    def part(self, verdict: str, path: Path, at: datetime, score: Optional[float], threshold: float,
             sorted_to: Optional[Path]) -> None:
        if verdict not in SIGNALLED_VERDICTS and not (self.ok_parts and verdict == "OK"):
            return
        self._put(LineEvent(verdict.lower(), (str(path),), (
            ("part", str(path)), ("verdict", verdict), ("time", at.isoformat()), ("score", score),
            ("threshold", threshold), ("sorted_to", None if sorted_to is None else str(sorted_to)))))

    def decided(self, verdict: str, path: Path, at: datetime, person: str, note: str, machine_verdict: str,
                sorted_to: Optional[Path]) -> None:
        """A person decided one of the line's parts ``verdict`` (OK or NG) at ``at``: ``decided-ok PART`` or
        ``decided-ng PART``, whatever ``ok_parts`` says (a part held for a person goes on, or out)."""
        self._put(LineEvent(f"decided-{verdict.lower()}", (str(path),), (
            ("part", str(path)), ("verdict", verdict), ("machine_verdict", machine_verdict), ("person", person),
            ("note", note), ("time", at.isoformat()), ("sorted_to", None if sorted_to is None else str(sorted_to)))))

    def state(self, kind: str, detail: str, at: datetime) -> None:
        """The line's state changed: ``kind`` is an audit-trail entry's name, or :data:`LINE_STARTED` and the like."""
        self._put(LineEvent(event_name(kind), (detail,), (("detail", detail), ("time", at.isoformat()))))

    def take_said(self) -> List[str]:
        """The lines to say since the last call: a failure's first, the command working again, events dropped."""
        return take_all(self._said)

    def close(self, wait_s: float = SENT_AT_THE_END_S) -> None:
        """Send what waits (at most ``wait_s`` seconds more), then end the thread."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        end = time.monotonic() + wait_s
        try:
            self._events.put(None, timeout=wait_s)
        except queue.Full:
            pass
        thread.join(max(0.0, end - time.monotonic()))
        if thread.is_alive():
            self._given_up.set()
            program = self._program
            if program is not None:  # stuck writing to a program that does not read
                program.kill()
            self._said.append(f"error: the signal command had not sent every event {wait_s:g} s after the line "
                              "ended: the rest were not sent")

    def _put(self, event: LineEvent) -> None:
        try:
            self._events.put_nowait(event)
        except queue.Full:
            with self._lock:
                self._dropped += 1
                if self._dropped == 1:
                    self._said.append(f"error: the signal command falls behind ({self._events.maxsize:,} events "
                                      f"waiting): '{event.name}' and the events after it are dropped until it "
                                      "catches up")

    # -- the sender's thread ------------------------------------------------------------------------------------
    def _send_all(self) -> None:
        while True:
            event = self._events.get()
            if event is None or self._given_up.is_set():
                self._end_program()
                return
            failure = self._write(event) if self.held_open else self._run(event)
            if failure is not None:
                self._failed += 1
                if self._failed == 1:
                    self._said.append(f"error: the signal command failed for '{event.name}': {failure}; the line "
                                      "goes on, and says when it works again")
                continue
            self.sent += 1
            if self._failed:
                self._said.append(f"the signal command works again, after {_events(self._failed)} it could not "
                                  "send")
                self._failed = 0
            with self._lock:
                if self._dropped and self._events.empty():
                    self._said.append(f"the signal command caught up, after {_events(self._dropped)} dropped")
                    self._dropped = 0

    def _run(self, event: LineEvent) -> Optional[str]:
        """None when the command ended well, else why not, in a few words."""
        environment = {**os.environ, **event.environment()}
        try:
            done = subprocess.run([*self.command, event.name, *event.arguments], env=environment,
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  timeout=self.timeout_s, **_QUIET)
        except subprocess.TimeoutExpired:
            return f"it had not ended after {self.timeout_s:g} s, and was ended"
        except OSError as exc:
            return f"it could not be run ({exc.strerror or exc})"
        if done.returncode == 0:
            return None
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return f"exit code {done.returncode}" + (f" ({said[-1][:200]})" if said else "")

    def _write(self, event: LineEvent) -> Optional[str]:
        """Held open: None when the event was written to the program's input (started first where it is not
        running), else why not, in a few words."""
        program = self._program
        if program is not None and program.poll() is not None and not self._ended_said:
            self._ended_said = True  # once: one that ends after every event would say it at every part
            self._said.append(f"the signal command ended by itself (exit code {program.returncode}): it is started "
                              "again at each event that finds it ended")
        if program is None or program.poll() is not None:
            try:  # its error output is the line's: the plant's words stay where the line's own go
                program = self._program = subprocess.Popen(self.command, stdin=subprocess.PIPE,
                                                           stdout=subprocess.DEVNULL, **_QUIET)
            except OSError as exc:
                self._program = None
                return f"it could not be started ({exc.strerror or exc})"
        writing = cast(IO[bytes], program.stdin)
        try:
            writing.write(event.json_line())
            writing.flush()
        except (OSError, ValueError):  # it ended (a broken pipe), or was ended at the line's end
            return f"it ended (exit code {program.wait()})"
        return None

    def _end_program(self) -> None:
        """Held open: close its input (its sign to end), then end it if it has not ended itself in time."""
        program, self._program = self._program, None
        if program is None:
            return
        try:
            cast(IO[bytes], program.stdin).close()
        except OSError:
            pass
        try:
            program.wait(self.timeout_s)
        except subprocess.TimeoutExpired:
            program.kill()
            program.wait()


def _events(count: int) -> str:
    return f"{count:,} event{'' if count == 1 else 's'}"
