"""What a line's helper thread hands over to the thread that says and records it."""

from __future__ import annotations

from typing import Deque, List, TypeVar

T = TypeVar("T")


def take_all(queue: Deque[T]) -> List[T]:
    """Everything queued so far, oldest first. Taken one by one: ``popleft`` is atomic where ``list()`` then
    ``clear()`` would lose what the helper appends between the two."""
    taken = []
    while queue:
        taken.append(queue.popleft())
    return taken
