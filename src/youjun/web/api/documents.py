"""The evaluation documents the API served last, kept in this process while they are unchanged.

A province's document is ~7 MB of JSON that the database must turn from ``jsonb`` into text on every request
(~60 ms of its CPU for 100 counties). Dashboards and exchanges ask for the same document again and again, so the
last few are kept here, each under a key made of its query (which holds the caller's jurisdiction) and the stamp of
the results it was made from: the count, the latest computation time, the highest id and the sum of generations. Any
recompute, new result or deletion in that scope changes the stamp, so a kept document is never served once it is
stale. Bounded: at most ``MAX_ITEM`` bytes per document and ``MAX_TOTAL`` in all (least recently used dropped first).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

MAX_ITEM = 16 * 1024 * 1024
MAX_TOTAL = 64 * 1024 * 1024

_kept: OrderedDict[str, bytes] = OrderedDict()
_lock = threading.Lock()


def get(key: str) -> bytes | None:
    with _lock:
        body = _kept.get(key)
        if body is not None:
            _kept.move_to_end(key)
        return body


def put(key: str, body: bytes) -> None:
    if len(body) > MAX_ITEM:
        return
    with _lock:
        _kept.pop(key, None)
        _kept[key] = body
        total = sum(len(b) for b in _kept.values())
        while total > MAX_TOTAL and len(_kept) > 1:
            _, dropped = _kept.popitem(last=False)
            total -= len(dropped)


def clear() -> None:
    with _lock:
        _kept.clear()
