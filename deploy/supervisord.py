"""Talking to supervisord: start it, query processes, apply program changes, shut it down.

supervisord runs every cluster process in the foreground, one program each, restarts the
ones that die, and daemonizes itself, so this package never forks daemons by hand. We use
its XML-RPC API over the unix socket in RUN_DIR (what `supervisorctl` does).
"""

from __future__ import annotations

import http.client
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
# What a call can raise besides a Fault: no socket, a dead daemon, a torn HTTP exchange.
TRANSPORT_ERRORS = (OSError, xmlrpc.client.Error, http.client.HTTPException)


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
        self._transport = SupervisorTransport(None, None, serverurl=url)
        self._proxy = xmlrpc.client.ServerProxy("http://127.0.0.1", transport=self._transport)

    @property
    def rpc(self) -> Any:
        return self._proxy.supervisor

    def is_running(self) -> bool:
        """True when supervisord answers on its socket."""
        if not self.layout.supervisor_socket.exists():
            return False
        try:
            return cast(dict[str, Any], self.rpc.getState())["statename"] == "RUNNING"
        except TRANSPORT_ERRORS:
            self._transport.close()  # a failed exchange leaves the connection unusable
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
        except TRANSPORT_ERRORS:
            self._transport.close()
            return {}
        return {
            info["name"]: ProcessInfo(info["name"], info["statename"], info["pid"] or None)
            for info in infos
        }

    def _call(self, action: str, method: str, *args: Any, unless: str = "") -> Any:
        """Call supervisord's ``method``; a fault or a dead socket becomes CommandError
        naming ``action``. A fault whose text contains ``unless`` is no error: None."""
        try:
            return getattr(self.rpc, method)(*args)
        except xmlrpc.client.Fault as exc:
            if unless and unless in exc.faultString:
                return None
            raise CommandError(f"supervisord could not {action}: {exc.faultString}") from exc
        except TRANSPORT_ERRORS as exc:
            self._transport.close()
            raise CommandError(
                f"supervisord could not {action}: {exc} (socket {self.layout.supervisor_socket})"
            ) from exc

    def apply_program_files(self) -> tuple[list[str], list[str], list[str]]:
        """Make supervisord re-read ``programs/``; return (added, changed, removed) names.

        Removed programs are stopped and dropped here. Added and changed ones are left to
        the caller, who decides when (and how gracefully) to start or restart them.
        """
        [[added, changed, removed]] = self._call(
            f"re-read {self.layout.programs_dir}", "reloadConfig"
        )
        for name in removed:
            self.stop(name)
            self._call(f"remove {name}", "removeProcessGroup", name)
        for name in added:
            self._call(f"add {name}", "addProcessGroup", name)
        return list(added), list(changed), list(removed)

    def replace(self, name: str) -> None:
        """Stop ``name`` gracefully and load its changed program file (left stopped)."""
        self.stop(name)
        self._call(f"unload {name}", "removeProcessGroup", name)
        self._call(f"load the new program file of {name}", "addProcessGroup", name)

    def start(self, name: str) -> None:
        """Ask supervisord to start ``name`` unless it is already up; returns at once."""
        info = self.processes().get(name)
        if info is not None and info.state in {"RUNNING", "STARTING"}:
            return
        self._call(f"start {name}", "startProcess", name, False, unless="ALREADY_STARTED")

    def stop(self, name: str) -> None:
        """Stop ``name`` and wait for it to exit (supervisor escalates to SIGKILL after
        the program's ``stopwaitsecs``)."""
        self._call(f"stop {name}", "stopProcess", name, True, unless="NOT_RUNNING")

    def restart(self, name: str) -> None:
        self.stop(name)
        self.start(name)

    def signal(self, name: str, signal_name: str) -> None:
        """Send ``signal_name`` (e.g. "HUP") to the program's process."""
        self._call(f"send SIG{signal_name} to {name}", "signalProcess", name, signal_name)

    def shutdown(self, timeout: float = 90.0) -> bool:
        """Stop every program and supervisord itself; wait until it has exited.

        Returns False when supervisord was not running.
        """
        if not self.is_running():
            return False
        pid = self._daemon_pid()
        self._call("shut down", "shutdown")
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
        except (*TRANSPORT_ERRORS, ValueError):
            self._transport.close()
            return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
