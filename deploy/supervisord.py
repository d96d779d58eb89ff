"""Talking to the cluster's supervisord over its XML-RPC socket (what `supervisorctl` does):
start it, query and control its processes, apply program changes, shut it down."""

from __future__ import annotations

import http.client
import os
import time
import xmlrpc.client
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from supervisor.xmlrpc import SupervisorTransport

from .errors import CommandError, NotHealthyError, NotRunningError
from .files import fill_template, write_if_changed
from .paths import Layout
from .proc import AS_ROOT, run, tail_file

TEMPLATE = Path(__file__).with_name("supervisor") / "supervisord.conf.tmpl"
STOPPED_STATES = {"STOPPED", "EXITED", "FATAL", "UNKNOWN"}
# What a call can raise besides a Fault: no socket, a dead daemon, a torn HTTP exchange.
TRANSPORT_ERRORS = (OSError, xmlrpc.client.Error, http.client.HTTPException)


@dataclass(frozen=True)
class ProcessInfo:
    """One supervisor process as seen right now."""

    name: str
    group: str  # its program: ``worker`` for ``worker-1``, else the name itself
    state: str  # RUNNING, STARTING, BACKOFF, STOPPED, EXITED, FATAL, ...
    pid: int | None


def is_running(info: ProcessInfo | None) -> bool:
    """Whether the process is up: supervisor's RUNNING (alive past its ``startsecs``)."""
    return info is not None and info.state == "RUNNING"


def is_stopped(info: ProcessInfo | None) -> bool:
    return info is None or info.state in STOPPED_STATES


def render_supervisord_conf(layout: Layout) -> str:
    """supervisord's own configuration; programs are included from ``RUN_DIR/programs``."""
    return fill_template(
        TEMPLATE,
        {
            "socket": str(layout.supervisor_socket),
            "logs": str(layout.logs),
            "pidfile": str(layout.supervisord_pidfile),
            "run_dir_name": layout.run_dir.name,
            "user_line": "user=root" if AS_ROOT else "",  # stated, so supervisord does not warn
            "programs_dir": str(layout.programs_dir),
        },
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

    def answers(self) -> bool:
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
        if self.answers():
            return False
        write_if_changed(self.layout.supervisord_conf, render_supervisord_conf(self.layout))
        run(
            [self.layout.venv_bin / "supervisord", "-c", self.layout.supervisord_conf],
            what="supervisord",
            cwd=self.layout.run_dir,
        )
        deadline = time.monotonic() + timeout
        while not self.answers():
            if time.monotonic() > deadline:
                log = self.layout.logs / "supervisord.log"
                raise NotHealthyError(
                    f"supervisord did not answer on {self.layout.supervisor_socket} within "
                    f"{timeout:.0f}s; last lines of {log}:\n{tail_file(log)}"
                )
            time.sleep(0.1)
        return True

    def require_running(self) -> None:
        if not self.answers():
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
            info["name"]: ProcessInfo(
                info["name"], info["group"], info["statename"], info["pid"] or None
            )
            for info in infos
        }

    def running(self, name: str) -> bool:
        return is_running(self.processes().get(name))

    def _spec(self, name: str) -> str:
        """supervisor's name for process or program ``name``: ``group:process``, or
        ``group:*`` for every process of a program."""
        processes = self.processes()
        if name in processes:
            return f"{processes[name].group}:{name}"
        return f"{name}:*" if any(p.group == name for p in processes.values()) else name

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
        """Stop program ``name`` gracefully and load its changed program file (left stopped)."""
        self.stop(name)
        self._call(f"unload {name}", "removeProcessGroup", name)
        self._call(f"load the new program file of {name}", "addProcessGroup", name)

    def start(self, name: str) -> None:
        """Ask supervisord to start ``name`` unless it is already up; returns at once."""
        spec = self._spec(name)
        self._call(f"start {name}", "startProcess", spec, False, unless="ALREADY_STARTED")

    def stop(self, name: str) -> None:
        """Stop ``name`` and wait for it to exit (supervisor escalates to SIGKILL after
        the program's ``stopwaitsecs``)."""
        self._call(f"stop {name}", "stopProcess", self._spec(name), True, unless="NOT_RUNNING")

    def restart(self, name: str) -> None:
        self.stop(name)
        self.start(name)

    def signal(self, name: str, signal_name: str) -> None:
        """Send ``signal_name`` (e.g. "HUP") to the program's process."""
        spec = self._spec(name)
        self._call(f"send SIG{signal_name} to {name}", "signalProcess", spec, signal_name)

    def shutdown(self, timeout: float = 90.0) -> bool:
        """Stop every program and supervisord itself; wait until it has exited.

        Returns False when supervisord was not running.
        """
        if not self.answers():
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
