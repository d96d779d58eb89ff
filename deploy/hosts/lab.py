"""Hosts made of network namespaces on the bridge ``br16`` (10.216.0.0/24): one namespace,
sshd and directory (``<root>/hosts/<name>``) per host; `teardown` removes everything.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import CommandError, ConfigurationError, NotHealthyError
from ..proc import run

IP = "/usr/sbin/ip"
SSHD = "/usr/sbin/sshd"
SSH_KEYGEN = "/usr/bin/ssh-keygen"
NAMESPACE_PREFIX = "ssh16-"
BRIDGE = "br16"
SUBNET = "10.216.0"
GATEWAY = f"{SUBNET}.1"  # the bridge's address: this machine, as seen from the hosts
DEFAULT_ROOT = Path("/var/lib/scaleshop-hosts")
ANSIBLE_DIR = Path(__file__).resolve().parent.parent / "ansible"
SSHD_PRIVSEP = Path("/run/sshd")  # sshd refuses to start without it (systemd makes it)


@dataclass(frozen=True)
class Host:
    """One namespace host: its name, address and inventory groups."""

    name: str
    address: str
    groups: tuple[str, ...]

    @property
    def namespace(self) -> str:
        return NAMESPACE_PREFIX + self.name

    @property
    def veth(self) -> str:
        return f"v16-{self.name}"  # the bridge's end; inside, the host's end is eth0


# Small enough for two cores: the data tier on two hosts, two app hosts, one worker host,
# and the load balancer on a host of its own.
HOSTS = (
    Host("db", f"{SUBNET}.11", ("db_primary", "redis")),
    Host("replica", f"{SUBNET}.12", ("db_replica",)),
    Host("app1", f"{SUBNET}.21", ("app",)),
    Host("app2", f"{SUBNET}.22", ("app",)),
    Host("worker", f"{SUBNET}.31", ("workers",)),
    Host("lb", f"{SUBNET}.10", ("balancer",)),
)


def ip(*args: str) -> str:
    return run([IP, *args], what=f"ip {' '.join(args)}")


def in_namespace(host: Host, *args: str) -> list[str]:
    """A command line that runs ``args`` inside ``host``'s network namespace."""
    return [IP, "netns", "exec", host.namespace, *args]


class Lab:
    """The namespaces, their sshd servers, the SSH keys and Ansible's inventory."""

    def __init__(self, root: Path = DEFAULT_ROOT, hosts: tuple[Host, ...] = HOSTS) -> None:
        self.root = root
        self.hosts = hosts
        self.private = root / "lab"  # keys, sshd configs, Ansible's temp dirs: root only
        self.made = False

    def host(self, name: str) -> Host:
        return next(h for h in self.hosts if h.name == name)

    def host_dir(self, host: Host) -> Path:
        return self.root / "hosts" / host.name

    @property
    def shared_dir(self) -> Path:
        """Storage every host mounts (NFS in production): static, media, prerendered pages."""
        return self.root / "shared"

    @property
    def key(self) -> Path:
        return self.private / "id_ed25519"

    @property
    def inventory(self) -> Path:
        return self.private / "inventory.json"

    def setup(self) -> None:
        if os.geteuid() != 0:
            raise ConfigurationError("the hosts test makes network namespaces: run it as root")
        if os.path.lexists(self.root):
            raise ConfigurationError(
                f"{self.root} exists (a hosts test still running, or one that could not "
                "clean up): remove it after checking, then run again"
            )
        self.root.mkdir(mode=0o755, parents=True)
        self.made = True  # from here on, what exists under our names is this run's
        self.private.mkdir(mode=0o700)
        (self.root / "hosts").mkdir(mode=0o755)
        self.shared_dir.mkdir(mode=0o755)
        run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-f", self.key], what="ssh-keygen")
        shutil.copy(self.key.with_suffix(".pub"), self.private / "authorized_keys")
        if not SSHD_PRIVSEP.exists():
            SSHD_PRIVSEP.mkdir(mode=0o755)
            (self.root / "made-run-sshd").touch()  # so teardown removes it, and only then
        ip("link", "add", BRIDGE, "type", "bridge")
        ip("addr", "add", f"{GATEWAY}/24", "dev", BRIDGE)
        ip("link", "set", BRIDGE, "up")
        for host in self.hosts:
            self._add_host(host)
        self._write_inventory()
        for host in self.hosts:
            self._wait_for_ssh(host)

    def _add_host(self, host: Host) -> None:
        ip("netns", "add", host.namespace)
        ip(
            "link",
            "add",
            host.veth,
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            host.namespace,
        )
        ip("link", "set", host.veth, "master", BRIDGE, "up")
        run(
            in_namespace(host, IP, "addr", "add", f"{host.address}/24", "dev", "eth0"),
            what=f"address of {host.name}",
        )
        for link in ("lo", "eth0"):
            run(in_namespace(host, IP, "link", "set", link, "up"), what=f"{host.name} {link} up")
        self.host_dir(host).mkdir(mode=0o755)
        host_key = self.private / f"{host.name}_host_key"
        run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-f", host_key], what="ssh-keygen")
        config = self.private / f"sshd-{host.name}.conf"
        config.write_text(
            f"ListenAddress {host.address}\n"
            "Port 22\n"
            f"HostKey {host_key}\n"
            f"PidFile {self.private / f'sshd-{host.name}.pid'}\n"
            f"AuthorizedKeysFile {self.private / 'authorized_keys'}\n"
            "PermitRootLogin prohibit-password\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "UsePAM no\n"
            "StrictModes yes\n"
            "Subsystem sftp internal-sftp\n"
        )
        run(
            in_namespace(
                host, SSHD, "-f", str(config), "-E", str(self.private / f"sshd-{host.name}.log")
            ),
            what=f"sshd in {host.namespace}",
        )

    def _wait_for_ssh(self, host: Host, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                run(self.ssh_command(host, "true"), what=f"ssh to {host.name}", timeout=10)
                return
            except Exception as exc:
                if time.monotonic() > deadline:
                    raise NotHealthyError(f"no SSH to {host.name} ({host.address}): {exc}") from exc
                time.sleep(0.3)

    def ssh_options(self) -> list[str]:
        return [
            "-o",
            "BatchMode=yes",
            "-o",
            f"UserKnownHostsFile={self.private / 'known_hosts'}",
            "-o",
            "StrictHostKeyChecking=accept-new",
            "-o",
            "ControlMaster=auto",
            "-o",
            "ControlPersist=120s",
            "-o",
            f"ControlPath={self.private}/cp-%h",
        ]

    def ssh_command(self, host: Host, *command: str) -> list[str]:
        return [
            "/usr/bin/ssh",
            "-i",
            str(self.key),
            *self.ssh_options(),
            f"root@{host.address}",
            *command,
        ]

    def _write_inventory(self) -> None:
        """Ansible's inventory (JSON is YAML): each host's address and directory."""
        groups: dict[str, dict[str, dict[str, dict[str, str]]]] = {}
        for host in self.hosts:
            for group in host.groups:
                groups.setdefault(group, {"hosts": {}})["hosts"][host.name] = {
                    "ansible_host": host.address,
                    "base_dir": str(self.host_dir(host)),
                }
        inventory = {
            "all": {
                "vars": {
                    "ansible_user": "root",
                    "ansible_python_interpreter": "/usr/bin/python3",
                    "shared_dir": str(self.shared_dir),
                    "secrets_dir": str(self.private / "secrets"),
                    "network": f"{SUBNET}.0/24",
                },
                "children": groups,
            }
        }
        self.inventory.write_text(json.dumps(inventory, indent=2) + "\n")

    def ansible_env(self) -> dict[str, str]:
        """Ansible's settings for this lab: its key, temp dirs and known hosts in the lab."""
        return {
            **os.environ,
            "ANSIBLE_CONFIG": str(
                Path(__file__).resolve().parent.parent / "ansible" / "ansible.cfg"
            ),
            "ANSIBLE_INVENTORY": str(self.inventory),
            "ANSIBLE_PRIVATE_KEY_FILE": str(self.key),
            "ANSIBLE_LOCAL_TEMP": str(self.private / "ansible-local"),
            "ANSIBLE_REMOTE_TEMP": str(self.private / "ansible-remote"),
            "ANSIBLE_SSH_CONTROL_PATH_DIR": str(self.private / "cp"),
            # ssh_options without ControlPath: Ansible puts its sockets in the dir above.
            "ANSIBLE_SSH_ARGS": " ".join(self.ssh_options()[:-2]),
            "ANSIBLE_HOME": str(self.private / "ansible-home"),
        }

    def teardown(self) -> list[str]:
        """Stop every process in the lab's namespaces, delete them, the bridge and the files.

        Returns what could not be removed (empty when all went).
        """
        problems: list[str] = []
        self._close_ssh()
        for host in self.hosts:
            self._kill_namespace(host, problems)
        # A veth goes with its namespace; the bridge's end may take a moment to vanish.
        deadline = time.monotonic() + 5
        while any(_exists_link(h.veth) for h in self.hosts) and time.monotonic() < deadline:
            time.sleep(0.1)
        for host in self.hosts:
            if _exists_link(host.veth):
                _try(problems, IP, "link", "del", host.veth)
        if _exists_link(BRIDGE):
            _try(problems, IP, "link", "del", BRIDGE)
        if (self.root / "made-run-sshd").exists():
            try:
                SSHD_PRIVSEP.rmdir()
            except OSError as exc:
                problems.append(f"{SSHD_PRIVSEP}: {exc}")
        if self.root.exists():
            shutil.rmtree(self.root, ignore_errors=True)
            if self.root.exists():
                problems.append(f"{self.root} could not be removed")
        return problems

    def _close_ssh(self) -> None:
        for socket in (*self.private.glob("cp-*"), *self.private.glob("cp/*")):
            if socket.is_socket():
                run_quietly(["/usr/bin/ssh", "-o", f"ControlPath={socket}", "-O", "exit", "x"])

    def _kill_namespace(self, host: Host, problems: list[str]) -> None:
        if host.namespace not in _namespaces():
            return
        # Only processes inside our own namespace: what our sshd and supervisord started.
        for sig in (signal.SIGTERM, signal.SIGKILL):
            pids = _namespace_pids(host)
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + (10 if sig == signal.SIGTERM else 5)
            while _namespace_pids(host) and time.monotonic() < deadline:
                time.sleep(0.2)
        left = _namespace_pids(host)
        if left:
            problems.append(f"{host.namespace}: processes {sorted(left)} survived SIGKILL")
        _try(problems, IP, "netns", "del", host.namespace)


def _namespaces() -> set[str]:
    listing = run([IP, "netns", "list"], what="ip netns list")
    return {line.split()[0] for line in listing.splitlines() if line.strip()}


def _namespace_pids(host: Host) -> set[int]:
    try:
        listing = run([IP, "netns", "pids", host.namespace], what="ip netns pids")
    except CommandError:
        return set()
    return {int(pid) for pid in listing.split()}


def _exists_link(name: str) -> bool:
    return Path("/sys/class/net", name).exists()


def _try(problems: list[str], *args: str) -> None:
    try:
        run(list(args), what=" ".join(args))
    except CommandError as exc:
        problems.append(str(exc))


def run_quietly(args: list[str]) -> None:
    try:
        run(args, what=" ".join(args), timeout=10)
    except CommandError:
        pass
