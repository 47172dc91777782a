"""A line PC in a test: writes records into a store as fast as it can, printing each id once committed.

    python tests/record/writer.py TARGET STATION COUNT [PREFIX]

COUNT 0 writes until killed. Exits 3 with the store's one-line message when the store fails.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone

from patchcore_gui.record import InspectionRecord, StoreUnavailable, open_store


def record(prefix: str, number: int) -> InspectionRecord:
    return InspectionRecord(time=datetime.now(timezone.utc), image_path=f"/camera/{prefix}_{number:06d}.png",
                            file_size=1000 + number, sha256=f"{number:064x}", model_sha256="m" * 64,
                            model_name="bottle", threshold=2.5, score=1.0 + number % 7 / 2,
                            verdict="NG" if number % 7 > 3 else "OK", error=None, inspection_ms=40.0 + number % 5,
                            regions=[{"x": number, "y": 1, "w": 2, "h": 3}])


def main() -> int:
    target, station, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    prefix = sys.argv[4] if len(sys.argv) > 4 else station
    store = open_store(target, station)
    number = 0
    try:
        while count == 0 or number < count:
            record_id = store.add(record(prefix, number))
            sys.stdout.write(f"{record_id} {prefix}_{number:06d}\n")
            sys.stdout.flush()
            number += 1
    except StoreUnavailable as exc:
        print(exc, file=sys.stderr)
        return 3
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
