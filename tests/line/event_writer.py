"""A plant's program for the line's signal command, for tests: it writes down what it is told."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Dict, List, Tuple

# a plant's program for the signal command: each run appends its arguments and particulars as one JSON line; the
# file beside it named "fail" holds an exit code and the words for its error output; told of a part named
# "slow-S.png", it takes S seconds first
EVENT_WRITER = """import json, os, sys, time
events = sys.argv[1]
folder = os.path.dirname(events)
for word in sys.argv[2:]:
    if os.path.basename(word).startswith("slow-"):
        time.sleep(float(os.path.basename(word)[len("slow-"):-len(".png")]))
if os.path.exists(os.path.join(folder, "fail")):
    code, words = open(os.path.join(folder, "fail")).read().split(" ", 1)
    print(words, file=sys.stderr)
    sys.exit(int(code))
with open(events, "a") as out:
    out.write(json.dumps([sys.argv[2:], {k: v for k, v in os.environ.items() if k.startswith("PATCHCORE_")}]) + "\\n")
"""


class EventWriter:
    """A signal command that writes what it is told (:data:`EVENT_WRITER`) into ``folder/events.jsonl``."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.script = folder / "writer.py"
        self.script.write_text(EVENT_WRITER)
        self.events_file = folder / "events.jsonl"
        self.command = (sys.executable, str(self.script), str(self.events_file))

    def events(self) -> List[Tuple[List[str], Dict[str, str]]]:
        if not self.events_file.exists():
            return []
        return [tuple(json.loads(line)) for line in self.events_file.read_text().splitlines()]

    def names(self) -> List[str]:
        return [arguments[0] for arguments, _ in self.events()]
