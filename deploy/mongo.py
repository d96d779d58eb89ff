"""The catalog read model's local server (`up --mongo`): SecantusDB from the app venv, as
the app user on 127.0.0.1 with SCRAM; its first user is made once before `--auth`.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from .errors import ConfigurationError, NotHealthyError
from .files import write_if_changed
from .health import port_taken
from .paths import Layout
from .proc import start
from .runtime import Runtime
from .topology import HOST, MONGO_DATABASE, MONGO_USER

SERVER = "secantusd-py"
STARTUP_SECONDS = 30.0


def config_file(layout: Layout) -> Path:
    return layout.mongo_dir / "secantusd.toml"


def write_config_file(layout: Layout) -> None:
    """An explicit (empty) config: without one the server looks for ``~/.secantus``, and
    under supervisor the app user's HOME is still root's, which it may not read."""
    write_if_changed(config_file(layout), "# Written by `python -m deploy up`; flags say it all.\n")


def server_command(runtime: Runtime, layout: Layout, port: int, *, auth: bool = True) -> list[str]:
    command = [str(runtime.venv_bin / SERVER), "--config", str(config_file(layout))]
    command += ["--host", HOST, "--port", str(port)]
    command += ["--storage-path", str(layout.mongo_dir / "data")]
    return command + (["--auth"] if auth else [])


def mongo_ping(url: str, timeout: float = 1.0) -> bool:
    """True when the server at ``url`` (with the app's user) answers a ping."""
    client: MongoClient = MongoClient(url, serverSelectionTimeoutMS=int(timeout * 1000))
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def ensure_mongo_user(layout: Layout, runtime: Runtime, port: int, password: str) -> bool:
    """Create (or update) the app's user unless done for this password; True if it was.

    Run while the supervised server is stopped: the one-off server takes its port.
    """
    marker = layout.mongo_dir / ".user"
    digest = hashlib.sha256(password.encode()).hexdigest()
    if marker.exists() and marker.read_text() == digest:
        return False
    if port_taken(HOST, port):
        raise ConfigurationError(
            f"the Mongo server needs port {port} to create its user, but another process "
            "listens there; stop it, or move the server by setting SHOP_MONGO_PORT"
        )
    process = start(server_command(runtime, layout, port, auth=False), as_user=runtime.user)
    client: MongoClient = MongoClient(f"mongodb://{HOST}:{port}/", serverSelectionTimeoutMS=500)
    try:
        _wait_for_ping(client, process.poll)
        database = client[MONGO_DATABASE]
        known = database.command("usersInfo", MONGO_USER).get("users")
        command = "updateUser" if known else "createUser"
        roles = [
            {"role": "readWrite", "db": MONGO_DATABASE},
            {"role": "dbAdmin", "db": MONGO_DATABASE},
        ]
        database.command(command, MONGO_USER, pwd=password, roles=roles)
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=30)
    write_if_changed(marker, digest, 0o600)
    return True


def _wait_for_ping(client: MongoClient, exited) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            client.admin.command("ping")
            return
        except PyMongoError as error:
            if exited() is not None or time.monotonic() > deadline:
                raise NotHealthyError(
                    f"{SERVER} did not start to create its user: {error}"
                ) from error
            time.sleep(0.2)
