"""Back and forward (``ctrl+o`` / ``ctrl+f``) through the places a reviewer jumped from.

A place is the list the reviewer looked at (query and view) and the post the cursor was
on. A jump to a similar post or a switch of view records where it left from; going back
records where it came from, so that forward returns there.
"""

from __future__ import annotations

from dataclasses import dataclass

TRAIL_LENGTH = 50


@dataclass(frozen=True, slots=True)
class Place:
    query: str
    view_name: str | None
    post_id: str | None


class Trail:
    def __init__(self, length: int = TRAIL_LENGTH) -> None:
        self._back: list[Place] = []
        self._forward: list[Place] = []
        self._length = length

    def left(self, place: Place) -> None:
        """The reviewer jumps away from ``place``: back returns there; forward is gone."""
        if self._back and self._back[-1] == place:
            return
        self._back.append(place)
        del self._back[: -self._length]
        self._forward.clear()

    def back(self, here: Place) -> Place | None:
        if not self._back:
            return None
        self._forward.append(here)
        return self._back.pop()

    def forward(self, here: Place) -> Place | None:
        if not self._forward:
            return None
        self._back.append(here)
        return self._forward.pop()
