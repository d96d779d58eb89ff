"""The Mongo read model's tests run against SecantusDB, a MongoDB wire-compatible server
from PyPI, started here on a loopback port (no real ``mongod`` on development machines).

Without the server the tests skip, saying why, except under ``CI=true``, where they
fail: CI installs it from requirements-dev.txt, so it missing there is a broken setup.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pymongo import MongoClient
from pymongo.errors import PyMongoError

SERVER = "secantusd-py"


@dataclass
class MongoServer:
    url: str
    process: subprocess.Popen

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=15)


def _executable() -> str:
    found = shutil.which(SERVER) or str(Path(sys.executable).parent / SERVER)
    if not Path(found).exists():
        reason = f"{SERVER} (pip install secantusdb, requirements-dev.txt) is not installed"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI must run the Mongo read model's tests")
        print(f"skipping the Mongo read model's tests: {reason}")
        pytest.skip(reason)
    return found


def _free_port() -> int:
    """A free loopback port below Linux's ephemeral range (outgoing connections use those)."""
    for _ in range(50):
        port = random.randint(20000, 32000)
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port for the test's Mongo server")


def start_mongo_server() -> MongoServer:
    """SecantusDB in memory on a loopback port, answering pings (about 1.5 s)."""
    port = _free_port()
    process = subprocess.Popen(
        [_executable(), "--host", "127.0.0.1", "--port", str(port), "--storage-path", ":memory:"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"mongodb://127.0.0.1:{port}/test_catalog"
    client: MongoClient = MongoClient(url, serverSelectionTimeoutMS=500)
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                client.admin.command("ping")
                return MongoServer(url=url, process=process)
            except PyMongoError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    raise RuntimeError(f"{SERVER} did not start on port {port}") from None
                time.sleep(0.2)
    finally:
        client.close()


@pytest.fixture(scope="session")
def mongo_server() -> Iterator[MongoServer]:
    server = start_mongo_server()
    yield server
    server.stop()


@pytest.fixture
def mongo_model(settings, mongo_server: MongoServer):
    """The Mongo read model on, with an empty collection and its indexes."""
    from catalog.mongo.client import products_collection
    from catalog.mongo.projection import indexes_ensure

    settings.CATALOG_READ_MODEL = "mongo"
    settings.MONGO_URL = mongo_server.url
    products_collection().drop()
    indexes_ensure()
    yield products_collection()
    products_collection().drop()
