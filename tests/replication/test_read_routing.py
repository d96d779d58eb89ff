"""The primary/replica router against the real primary and streaming replica.

Rows must really reach the replica, so these tests commit (``transaction=True``).
Which server served a read is proved on the connection itself (``pg_is_in_recovery``,
``inet_server_port``), not by asking the router. Titles are read on the test app's book
page (tests/testapp), which reads through the router on every request.
"""

import pytest
from django.apps import apps
from django.db import connections, router, transaction
from django.test.utils import CaptureQueriesContext

from replication.lsn import primary_current_lsn
from replication.routing import routing_scope
from tests.cluster import wait_for
from tests.replication.replicas import replica_has, replicated_book
from tests.testapp.models import Book, Chapter
from tests.testapp.rows import book_create

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
    pytest.mark.urls("tests.testapp.urls"),
]


def _server(alias: str) -> tuple[bool, int]:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery(), inet_server_port()")
        return cursor.fetchone()


def _title_read(client, book) -> tuple[str, str]:
    response = client.get(f"/books/{book.slug}/")
    assert response.status_code == 200
    return response.text, response["X-DB-Read"]


def _served_by(queries: CaptureQueriesContext) -> bool:
    return len(queries.captured_queries) > 0


def test_read_without_prior_write_is_served_by_the_replica(client):
    book = replicated_book()

    with (
        CaptureQueriesContext(connections["replica"]) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        response = client.get(f"/books/{book.slug}/")

    assert response.status_code == 200
    assert _served_by(on_replica)
    assert not _served_by(on_primary)
    in_recovery, port = _server("replica")
    assert in_recovery is True
    assert port == connections["replica"].settings_dict["PORT"]


def test_the_writer_reads_its_own_write_at_once_others_may_lag(
    client, admin_client, delayed_replica
):
    book = replicated_book(title="Old title")
    writer, other = admin_client, client
    form = {"shelf": book.shelf_id, "title": "New title", "slug": book.slug}

    response = writer.post(f"/admin/testapp/book/{book.pk}/change/", form)
    assert response.status_code == 302, response.text

    assert _title_read(writer, book) == ("New title", "default (sticky)")
    # The replica applies WAL 3 s late, so another reader still sees the old title.
    assert _title_read(other, book) == ("Old title", "replica (replica)")

    write_lsn = primary_current_lsn()
    wait_for(lambda: replica_has(write_lsn), timeout=15, what="the delayed replica")
    assert _title_read(writer, book) == ("New title", "replica (replica)")


def test_every_query_inside_atomic_goes_to_the_primary():
    with (
        routing_scope(),
        CaptureQueriesContext(connections["replica"]) as on_replica,
        transaction.atomic(),
    ):
        book = book_create()
        assert Book.objects.get(pk=book.pk) == book
        assert list(Chapter.objects.filter(book=book)) == []
    assert not _served_by(on_replica)


def test_reads_outside_a_request_or_job_use_the_primary():
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        Book.objects.count()
    assert not _served_by(on_replica)


def test_admin_reads_use_the_primary(admin_client):
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        response = admin_client.get("/admin/testapp/book/")
    assert response.status_code == 200
    assert response["X-DB-Read"] == "default (pinned)"
    assert not _served_by(on_replica)


def test_migrations_run_on_the_primary_only(settings):
    """Replicas get the schema by replication: the router lets no migration run there.

    Asked of the router, since running ``migrate`` on a replica proves nothing: it finds
    every migration already recorded (replicated) and a write would fail there anyway.
    """
    models = apps.get_models(include_auto_created=True)
    assert settings.DATABASE_REPLICAS
    for alias in settings.DATABASE_REPLICAS:
        assert not any(router.allow_migrate_model(alias, model) for model in models)
        assert router.allow_migrate(alias, "testapp") is False  # RunSQL, RunPython
    assert all(router.allow_migrate_model("default", model) for model in models)
    assert router.allow_migrate("default", "testapp") is True
