"""A routing scope opened inside another keeps the outer one's guarantees.

A cache refill reads ``reading_after`` the write it must see while serving a request
that may be the admin's (pinned to the primary) or may have written already; and a
write inside the inner scope must still give the request its read-your-writes cookie.
"""

import pytest
from django.db import connections

from replication.databases import PRIMARY
from replication.routing import current_scope, note_writes, reading_after, routing_scope
from tests.replication.replicas import probes_on, replicated_book
from tests.testapp.models import Book
from tests.testapp.rows import book_create


def test_an_inner_scope_keeps_the_outer_pin_to_the_primary():
    with routing_scope(pin_primary=True), reading_after(None) as inner:
        assert inner.alias_for_read() == PRIMARY
        assert inner.reason == "pinned"


def test_an_inner_scope_reads_from_the_primary_after_the_outer_scope_wrote():
    with routing_scope() as outer:
        outer.wrote = True
        with reading_after(None) as inner:
            assert inner.alias_for_read() == PRIMARY
            assert inner.reason == "wrote"


@pytest.mark.parametrize(("outer", "inner", "required"), [(9, 5, 9), (5, 9, 9), (None, 5, 5)])
def test_an_inner_scope_waits_for_the_later_of_both_writes(outer, inner, required):
    with routing_scope(required_lsn=outer), reading_after(inner) as scope:
        assert scope.required_lsn == required


@pytest.mark.django_db
def test_a_write_inside_an_inner_scope_counts_for_the_outer_one():
    with routing_scope() as outer, connections[PRIMARY].execute_wrapper(note_writes):
        with reading_after(None):
            book_create()
        assert outer.wrote
        assert current_scope() is outer
    assert current_scope() is None


@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_an_inner_scope_reads_the_primary_once_the_outer_one_does_without_a_probe():
    replicated_book()
    with routing_scope(required_lsn=2**62) as outer:  # a write the replica has not seen
        assert Book.objects.exists()
        with probes_on("replica") as probes, reading_after(None) as inner:
            assert Book.objects.exists()

    assert (outer.read_alias, outer.reason) == (PRIMARY, "sticky")
    assert inner.read_alias == PRIMARY
    assert probes == []


@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_a_pinned_inner_scope_reads_the_primary_though_the_outer_one_reads_a_replica():
    replicated_book()
    with routing_scope() as outer:
        assert Book.objects.exists()
        with routing_scope(pin_primary=True) as inner:
            assert Book.objects.exists()

    assert (outer.read_alias, inner.read_alias, inner.reason) == ("replica", PRIMARY, "pinned")
