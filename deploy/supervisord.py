"""Talking to supervisord: start it, query processes, apply program changes, shut it down.

supervisord runs every cluster process in the foreground, one program each, restarts the
ones that die, and daemonizes itself, so this package never forks daemons by hand. We use
its XML-RPC API over the unix socket in RUN_DIR (what `supervisorctl` does).
"""

from __future__ import annotations

import os
import time
import xmlrpc.client
from dataclasses import dataclass
from typing import Any, cast

from supervisor.xmlrpc import SupervisorTransport

from .errors import CommandError, NotHealthyError, NotRunningError
from .files import write_if_changed
from .paths import Layout
from .proc import AS_ROOT, run, tail_file

STOPPED_STATES = {"STOPPED", "EXITED", "FATAL", "UNKNOWN"}


@dataclass(frozen=True)
class ProcessInfo:
    """One supervisor program as seen right now."""

    name: str
    state: str  # RUNNING, STARTING, BACKOFF, STOPPED, EXITED, FATAL, ...
    pid: int | None


def render_supervisord_conf(layout: Layout) -> str:
    """supervisord's own configuration; programs are included from ``RUN_DIR/programs``."""
    user_line = "user=root\n" if AS_ROOT else ""  # stated, so supervisord does not warn
    return (
        "; Written by `python -m deploy up`. One [program:x] per file in programs/.\n"
        "[unix_http_server]\n"
        f"file={layout.supervisor_socket}\n"
        "chmod=0700\n\n"
        "[supervisord]\n"
        f"logfile={layout.logs / 'supervisord.log'}\n"
        f"pidfile={layout.supervisord_pidfile}\n"
        f"childlogdir={layout.logs}\n"
        f"identifier=scaleshop-{layout.run_dir.name}\n"
        f"{user_line}"
        "logfile_maxbytes=10MB\n"
        "logfile_backups=2\n\n"
        "[rpcinterface:supervisor]\n"
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n"
        "[supervisorctl]\n"
        f"serverurl=unix://{layout.supervisor_socket}\n\n"
        "[include]\n"
        f"files = {layout.programs_dir}/*.conf\n"
    )


class Supervisor:
    """A client for the cluster's supervisord; every call is bounded by socket timeouts."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        url = f"unix://{layout.supervisor_socket}"
        self._proxy = xmlrpc.client.ServerProxy(
            "http://127.0.0.1", transport=SupervisorTransport(None, None, serverurl=url)
        )

    @property
    def rpc(self) -> Any:
        return self._proxy.supervisor

    def is_running(self) -> bool:
        """True when supervisord answers on its socket."""
        if not self.layout.supervisor_socket.exists():
            return False
        try:
            return cast(dict[str, Any], self.rpc.getState())["statename"] == "RUNNING"
        except (OSError, xmlrpc.client.Error):
            return False

    def ensure_running(self, timeout: float = 15.0) -> bool:
        """Start supervisord unless it runs; True if it was started now."""
        if self.is_running():
            return False
        write_if_changed(self.layout.supervisord_conf, render_supervisord_conf(self.layout))
        run(
            [self.layout.venv_bin / "supervisord", "-c", self.layout.supervisord_conf],
            what="supervisord",
            cwd=self.layout.run_dir,
        )
        deadline = time.monotonic() + timeout
        while not self.is_running():
            if time.monotonic() > deadline:
                log = self.layout.logs / "supervisord.log"
                raise NotHealthyError(
                    f"supervisord did not answer on {self.layout.supervisor_socket} within "
                    f"{timeout:.0f}s; last lines of {log}:\n{tail_file(log)}"
                )
            time.sleep(0.1)
        return True

    def require_running(self) -> None:
        if not self.is_running():
            raise NotRunningError(
                f"no supervisord answers on {self.layout.supervisor_socket}; "
                "start the cluster with `python -m deploy up`"
            )

    def processes(self) -> dict[str, ProcessInfo]:
        """Every configured program by name; empty when supervisord is not running."""
        try:
            infos = cast(list[dict[str, Any]], self.rpc.getAllProcessInfo())
        except (OSError, xmlrpc.client.Error):
            return {}
        return {
            info["name"]: ProcessInfo(info["name"], info["statename"], info["pid"] or None)
            for info in infos
        }

    def apply_program_files(self) -> tuple[list[str], list[str], list[str]]:
        """Make supervisord re-read ``programs/``; return (added, changed, removed) names.

        Removed programs are stopped and dropped here. Added and changed ones are left to
        the caller, who decides when (and how gracefully) to start or restart them.
        """
        [[added, changed, removed]] = self.rpc.reloadConfig()
        for name in removed:
            self.stop(name)
            self.rpc.removeProcessGroup(name)
        for name in added:
            self.rpc.addProcessGroup(name)
        return list(added), list(changed), list(removed)

    def replace(self, name: str) -> None:
        """Stop ``name`` gracefully and load its changed program file (left stopped)."""
        self.stop(name)
        self.rpc.removeProcessGroup(name)
        self.rpc.addProcessGroup(name)

    def start(self, name: str) -> None:
        """Ask supervisord to start ``name`` unless it is already up; returns at once."""
        info = self.processes().get(name)
        if info is not None and info.state in {"RUNNING", "STARTING"}:
            return
        try:
            self.rpc.startProcess(name, False)
        except xmlrpc.client.Fault as exc:
            if "ALREADY_STARTED" not in exc.faultString:
                raise CommandError(
                    f"supervisord could not start {name}: {exc.faultString}"
                ) from exc

    def stop(self, name: str) -> None:
        """Stop ``name`` and wait for it to exit (supervisor escalates to SIGKILL after
        the program's ``stopwaitsecs``)."""
        try:
            self.rpc.stopProcess(name, True)
        except xmlrpc.client.Fault as exc:
            if "NOT_RUNNING" not in exc.faultString:
                raise CommandError(f"supervisord could not stop {name}: {exc.faultString}") from exc

    def restart(self, name: str) -> None:
        self.stop(name)
        self.start(name)

    def signal(self, name: str, signal_name: str) -> None:
        """Send ``signal_name`` (e.g. "HUP") to the program's process."""
        self.rpc.signalProcess(name, signal_name)

    def shutdown(self, timeout: float = 90.0) -> bool:
        """Stop every program and supervisord itself; wait until it has exited.

        Returns False when supervisord was not running.
        """
        if not self.is_running():
            return False
        pid = self._daemon_pid()
        self.rpc.shutdown()
        deadline = time.monotonic() + timeout
        while pid is not None and _alive(pid):
            if time.monotonic() > deadline:
                raise NotHealthyError(
                    f"supervisord (pid {pid}) still running {timeout:.0f}s after shutdown"
                )
            time.sleep(0.2)
        return True

    def _daemon_pid(self) -> int | None:
        try:
            return int(self.rpc.getPID())
        except (OSError, xmlrpc.client.Error, ValueError):
            return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
