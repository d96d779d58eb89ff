"""Writing rendered configuration: atomic, and telling the caller whether anything changed."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_if_changed(path: Path, text: str, mode: int = 0o644) -> bool:
    """Write ``text`` to ``path`` atomically unless it already holds it; True if written.
    Either way the file ends with ``mode``.

    Callers use the result to restart only the processes whose configuration changed,
    which is what keeps a second `up` harmless. The text goes to a uniquely named file
    beside ``path`` first, so two writers never share a half-written temporary file.
    """
    try:
        if path.read_text() == text:
            if path.stat().st_mode & 0o7777 != mode:
                path.chmod(mode)  # e.g. made by a version that wrote it more open
            return False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            os.fchmod(handle.fileno(), mode)
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return True
