"""Rendering configuration from templates and writing it atomically, saying if it changed."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path

from .errors import ConfigurationError

PLACEHOLDER = re.compile(r"{{(\w+)}}")


def fill_template(template: Path, values: Mapping[str, str]) -> str:
    """``template``'s text with every ``{{name}}`` replaced; an unknown name raises."""

    def value(match: re.Match[str]) -> str:
        try:
            return values[match.group(1)]
        except KeyError:
            raise ConfigurationError(f"{template.name} uses unknown {match.group(0)}") from None

    return PLACEHOLDER.sub(value, template.read_text())


def write_if_changed(path: Path, text: str, mode: int = 0o644) -> bool:
    """Write ``text`` to ``path`` atomically unless it already holds it; True if written.
    Either way the file ends with ``mode``. The result lets a second `up` restart nothing."""
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
