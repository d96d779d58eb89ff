"""The cluster's generated secrets, and upgrading a cluster made before they existed."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from deploy.credentials import ensure_credentials, load_credentials
from deploy.errors import ConfigurationError
from deploy.paths import Layout
from deploy.postgres import REPLICATION_USER, _streams_from


def test_credentials_are_generated_once_and_kept_private(layout: Layout) -> None:
    first = ensure_credentials(layout)
    assert ensure_credentials(layout) == first == load_credentials(layout)
    assert layout.credentials_file.stat().st_mode & 0o777 == 0o600
    values = list(asdict(first).values())
    assert len(set(values)) == len(values)  # one password per role and server
    assert len(first.secret_key) >= 50


def test_a_file_from_an_older_version_keeps_its_values_and_gains_the_missing_ones(
    layout: Layout,
) -> None:
    layout.credentials_file.write_text(json.dumps({"shop": "kept-password"}))
    credentials = ensure_credentials(layout)
    assert credentials.shop == "kept-password"
    assert credentials.redis_broker and credentials.secret_key


def test_commands_before_the_first_up_say_what_to_run(layout: Layout) -> None:
    with pytest.raises(ConfigurationError, match="make up"):
        load_credentials(layout)


def test_a_replica_made_before_the_replication_role_is_made_again(tmp_path) -> None:
    conf = tmp_path / "postgresql.auto.conf"
    conf.write_text("primary_conninfo = 'user=postgres host=127.0.0.1 port=25432 sslmode=prefer'\n")
    assert _streams_from(tmp_path) == (25432, "postgres")  # not REPLICATION_USER: remade
    conf.write_text(
        f"primary_conninfo = 'user={REPLICATION_USER} password=x host=127.0.0.1 port=25432'\n"
    )
    assert _streams_from(tmp_path) == (25432, REPLICATION_USER)
