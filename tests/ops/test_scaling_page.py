"""The admin's Scaling page: staff only; every clone of ``SHOP_CLONE_URLS``, asked live.

The clones are the local cluster's (``make test`` starts it; ``cluster.env`` names them).
"""

import pytest
from django.contrib.auth import get_user_model

from tests.replication.replicas import closed_port

pytestmark = pytest.mark.django_db

PAGE = "/admin/scaling/"


def test_anonymous_visitors_are_sent_to_the_admin_login(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_a_shopper_who_is_not_staff_does_not_see_it(client):
    user = get_user_model().objects.create_user("shopper", password="not-staff-1")
    client.force_login(user)
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_staff_see_every_clone_with_its_health_release_and_fingerprint(
    admin_client, settings, cluster
):
    assert settings.SHOP_CLONE_URLS, "cluster.env names the clones (python -m deploy up)"
    response = admin_client.get(PAGE)

    assert response.status_code == 200
    overview = response.context["overview"]
    assert [clone.url for clone in overview["clones"]] == settings.SHOP_CLONE_URLS
    page = response.content.decode()
    for clone in overview["clones"]:
        assert clone.healthy, clone
        assert clone.url in page and clone.body["clone"] in page
        assert clone.body["settings_fingerprint"][:16] in page
    assert overview["identical"]
    assert [replica["alias"] for replica in overview["replicas"]] == ["replica"]
    assert "Broker queue depth" in page and "Outbox backlog" in page and "Last build" in page
    assert "Special orders by state" in page


def test_a_clone_that_does_not_answer_is_listed_as_unreachable(admin_client, settings):
    settings.SHOP_CLONE_URLS = [*settings.SHOP_CLONE_URLS, f"http://127.0.0.1:{closed_port()}"]
    response = admin_client.get(PAGE)

    assert response.status_code == 200
    dead = response.context["overview"]["clones"][-1]
    assert not dead.healthy and dead.error
    assert "ConnectionRefusedError" in response.content.decode()


def test_sections_no_clone_reports_are_left_out(admin_client, settings):
    # Special orders and prerendered pages are the demo shop's: a fork without it (or a
    # cluster whose clones all fail to answer) gets the page without their rows.
    settings.SHOP_CLONE_URLS = [f"http://127.0.0.1:{closed_port()}"]
    page = admin_client.get(PAGE).content.decode()

    assert "Outbox backlog" in page
    assert "Special orders by state" not in page and "Prerendered pages" not in page
