"""Writing rendered configuration: atomic, and telling the caller whether anything changed."""

from __future__ import annotations

from pathlib import Path


def write_if_changed(path: Path, text: str, mode: int = 0o644) -> bool:
    """Write ``text`` to ``path`` atomically unless it already holds it; True if written.

    Callers use the result to restart only the processes whose configuration changed,
    which is what keeps a second `up` harmless.
    """
    try:
        if path.read_text() == text:
            return False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(text)
    partial.chmod(mode)
    partial.replace(path)
    return True
