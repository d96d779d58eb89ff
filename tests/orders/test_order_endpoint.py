"""The order endpoint: invalid input makes no order and no job; the same form sent twice
is one order; each client is rate-limited."""

import logging
import re
from collections.abc import Iterator

import pytest
from django.db import OperationalError, connection
from django.test import RequestFactory

from jobs.models import OutboxMessage
from orders import services
from orders.models import SpecialOrder
from orders.ratelimit import client_address, client_key
from replication.lsn import primary_current_lsn
from tests.cluster import wait_for
from tests.orders.conftest import NEW, order_form
from tests.replication.replicas import replica_has

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "changes",
    [{"writing": ""}, {"email": "nope"}, {"pickup_date": "2000-01-01"}, {"product": "no-cake"}],
)
def test_invalid_input_creates_neither_order_nor_job(client, product, changes):
    response = client.post(NEW, order_form(product.slug, "Hi") | changes)

    assert response.status_code == 400
    assert not SpecialOrder.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_a_placed_order_and_its_job_are_committed_together(
    client, product, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as sends:
        response = client.post(NEW, order_form(product.slug, "Hi"))

    order = SpecialOrder.objects.get()
    job = OutboxMessage.objects.get()
    assert response.status_code == 302
    assert (job.actor_name, job.queue_name, job.args) == (
        "bake_special_order",
        "orders",
        [order.pk],
    )
    assert job.kwargs == {}  # a real bake: shoppers cannot ask for the bench's trivial one
    assert job.sent_at is None  # sent only after commit:
    assert len(sends) == 1  # the fast path, registered with on_commit


@pytest.fixture
def outbox_refuses_rows() -> Iterator[None]:
    """PostgreSQL itself refuses every new outbox row, for the length of the test."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_outbox_refuses() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RAISE EXCEPTION 'the outbox refuses rows'; END $$;"
            " CREATE TRIGGER test_outbox_refuses BEFORE INSERT ON jobs_outboxmessage"
            " FOR EACH ROW EXECUTE FUNCTION test_outbox_refuses();"
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "DROP TRIGGER test_outbox_refuses ON jobs_outboxmessage;"
                " DROP FUNCTION test_outbox_refuses();"
            )


# Really committed or really rolled back; the form reads the product from the replica.
@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_an_order_whose_job_cannot_be_recorded_is_not_placed_and_the_shopper_may_retry(
    client, product, outbox_refuses_rows
):
    lsn = primary_current_lsn()
    wait_for(lambda: replica_has(lsn), timeout=10, what="replica catch-up")

    response = client.post(NEW, order_form(product.slug, "Hi"))

    # On the primary: the order's insert came before the job's, in one transaction.
    assert not SpecialOrder.objects.using("default").exists()
    assert not OutboxMessage.objects.using("default").exists()
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    # The view cannot tell a failed insert from a failed commit: it promises nothing.
    assert "We could not confirm your order just now" in response.text
    assert 'value="Hi"' in response.text  # the shopper's input is kept for the next try


def _form_with_token(client, product, writing: str = "Hi") -> dict[str, str]:
    """The order form as a browser sends it: with the token of the page it came from."""
    page = client.get(f"{NEW}?product={product.slug}").text
    [token] = re.findall(r'name="token" value="([0-9a-f-]{36})"', page)
    return order_form(product.slug, writing) | {"token": token}


def test_the_same_form_sent_twice_places_one_order_with_one_job(client, product):
    form = _form_with_token(client, product)

    first, second = client.post(NEW, form), client.post(NEW, form)  # a double click

    order = SpecialOrder.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == order.get_absolute_url()
    assert OutboxMessage.objects.get().args == [order.pk]


def test_an_order_whose_commit_was_not_confirmed_can_be_sent_again_without_a_duplicate(
    client, product, monkeypatch
):
    place = services.special_order_place

    def committed_then_the_connection_broke(**kwargs):
        place(**kwargs)  # the order and its job are in
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "special_order_place", committed_then_the_connection_broke)
    form = _form_with_token(client, product)
    unconfirmed = client.post(NEW, form)
    monkeypatch.undo()
    assert unconfirmed.status_code == 503
    assert "send this form again" in unconfirmed.text
    assert f'value="{form["token"]}"' in unconfirmed.text  # the same token goes back

    again = client.post(NEW, form)  # what the shopper sends from that page

    order = SpecialOrder.objects.get()
    assert again.status_code == 302
    assert again["Location"] == order.get_absolute_url()
    assert OutboxMessage.objects.count() == 1


def test_a_form_edited_before_it_is_sent_again_is_a_new_order(client, product):
    form = _form_with_token(client, product)
    client.post(NEW, form)

    client.post(NEW, form | {"writing": "Something else"})

    assert sorted(SpecialOrder.objects.values_list("writing", flat=True)) == [
        "Hi",
        "Something else",
    ]


def test_every_form_page_has_a_token_of_its_own(client, product):
    assert _form_with_token(client, product)["token"] != _form_with_token(client, product)["token"]


def test_the_form_says_the_order_is_queued_and_what_happens_next(client, product):
    page = client.get(f"{NEW}?product={product.slug}").text
    for words in ("Queued", "Baking", "Ready", "email"):
        assert words in page


@pytest.fixture
def limit_of_three(settings):
    settings.SPECIAL_ORDER_RATE_LIMIT = 3
    settings.SPECIAL_ORDER_RATE_WINDOW_SECONDS = 600


def test_a_client_over_the_limit_gets_429_with_a_clear_page_and_no_order(
    client, product, limit_of_three
):
    for _ in range(3):
        assert client.post(NEW, {}, REMOTE_ADDR="203.0.113.7").status_code == 400

    response = client.post(NEW, order_form(product.slug, "Hi"), REMOTE_ADDR="203.0.113.7")

    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 600
    assert "Too many orders from your address" in response.text
    assert "was <strong>not</strong> placed" in response.text
    assert not SpecialOrder.objects.exists()
    other = client.post(NEW, order_form(product.slug, "Hi"), REMOTE_ADDR="203.0.113.8")
    assert other.status_code == 302


def test_form_page_views_are_not_limited(client, product, limit_of_three):
    for _ in range(5):
        assert client.get(NEW, REMOTE_ADDR="203.0.113.9").status_code == 200


def _redis_unreachable(settings, alias: str) -> None:
    settings.CACHES = settings.CACHES | {
        alias: settings.CACHES[alias] | {"LOCATION": "redis://127.0.0.1:1/0"}
    }


def test_the_limit_holds_while_the_cache_redis_is_down(client, product, settings, limit_of_three):
    _redis_unreachable(settings, "default")

    statuses = [
        client.post(NEW, order_form(product.slug, "Hi"), REMOTE_ADDR="203.0.113.10").status_code
        for _ in range(5)
    ]

    assert statuses == [302, 302, 302, 429, 429]
    assert SpecialOrder.objects.count() == 3


def test_without_its_counters_the_form_takes_no_order_and_says_so(
    client, product, settings, limit_of_three, caplog
):
    _redis_unreachable(settings, "sessions")

    with caplog.at_level(logging.ERROR):
        response = client.post(NEW, order_form(product.slug, "Hi"), REMOTE_ADDR="203.0.113.11")

    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert "your order was <strong>not</strong> placed" in response.text
    assert not SpecialOrder.objects.exists()
    assert "its limit cannot be checked" in caplog.text


def _address(remote: str, forwarded: str | None = None) -> str:
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return client_address(RequestFactory().post(NEW, REMOTE_ADDR=remote, **headers))


def test_the_client_is_the_nearest_untrusted_hop_behind_the_load_balancer():
    assert _address("127.0.0.1", "198.51.100.4") == "198.51.100.4"
    # A client-supplied X-Forwarded-For is to the left of what nginx appended.
    assert _address("127.0.0.1", "10.0.0.1, 198.51.100.4") == "198.51.100.4"
    assert _address("127.0.0.1", "198.51.100.4, 127.0.0.1") == "198.51.100.4"
    assert _address("127.0.0.1") == "127.0.0.1"


def test_x_forwarded_for_from_an_untrusted_address_is_ignored():
    assert _address("198.51.100.9", "10.0.0.1") == "198.51.100.9"


def test_an_ipv6_client_is_counted_by_its_64_and_an_ipv4_client_by_its_address():
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:bbbb::2")
    assert client_key("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("::ffff:198.51.100.4") == "198.51.100.4"  # IPv4-mapped
    assert client_key("198.51.100.4") != client_key("198.51.100.5")
    assert client_key("not an address") == "not an address"


def test_addresses_of_one_ipv6_64_share_one_window(client, product, limit_of_three):
    for host in range(1, 4):
        assert client.post(NEW, {}, REMOTE_ADDR=f"2001:db8:7:7::{host}").status_code == 400

    same_64 = client.post(NEW, order_form(product.slug, "Hi"), REMOTE_ADDR="2001:db8:7:7::99")
    next_64 = client.post(NEW, order_form(product.slug, "Hi"), REMOTE_ADDR="2001:db8:7:8::1")

    assert same_64.status_code == 429
    assert next_64.status_code == 302


def test_an_email_address_gets_at_most_its_daily_orders_whatever_the_client(client, product):
    limit = 5  # SPECIAL_ORDER_EMAIL_DAILY_LIMIT (default)
    form = order_form(product.slug, "Hi") | {"email": "ana@example.com"}
    for n in range(limit):
        address = f"198.51.100.{n}"  # a fresh client each time: only the address repeats
        assert client.post(NEW, form, REMOTE_ADDR=address).status_code == 302

    response = client.post(NEW, form | {"email": "ANA@example.com"}, REMOTE_ADDR="198.51.100.99")

    assert response.status_code == 429
    assert f"We bake at most {limit} special orders a day for one email address" in response.text
    assert SpecialOrder.objects.count() == limit
    other = client.post(NEW, form | {"email": "bo@example.com"}, REMOTE_ADDR="198.51.100.99")
    assert other.status_code == 302
