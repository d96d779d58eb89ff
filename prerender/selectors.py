"""Reads of prerendering's state, for ``/healthz`` and ``deploy status``."""

from __future__ import annotations

import time
from typing import Any

from prerender import store


def prerender_figures() -> dict[str, Any]:
    """The published build's figures and the pages waiting to be rendered again."""
    figures = store.build_figures(store.current_build())
    pending = store.pending_all()
    oldest = min((entry.at for entry in pending), default=None)
    return {
        "last_build": None
        if figures is None
        else {
            key: figures.get(key)
            for key in ("name", "finished_at", "pages", "seconds", "bytes", "pages_per_second")
        },
        "rerender_queue": {
            "pages": len(pending),
            "oldest_seconds": None if oldest is None else round(time.time() - oldest, 1),
        },
    }
