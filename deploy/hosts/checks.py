"""Checks of the deployed hosts, made from this machine's root namespace."""

from __future__ import annotations

from collections.abc import Callable

from .lab import Lab


def run_all(lab: Lab, playbook: Callable[..., None]) -> None:
    pass
