"""What a helper thread queues is handed over whole and in order, however the two threads interleave."""

from __future__ import annotations

import threading
from collections import deque

from patchcore_gui.line.handover import take_all


def test_everything_queued_is_taken_once_in_order_while_a_thread_keeps_queueing():
    queue: deque = deque()
    count = 200_000

    def helper() -> None:
        for number in range(count):
            queue.append(number)

    thread = threading.Thread(target=helper)
    thread.start()
    taken = []
    while thread.is_alive():
        taken += take_all(queue)
    thread.join()
    taken += take_all(queue)
    assert taken == list(range(count)) and take_all(queue) == []
