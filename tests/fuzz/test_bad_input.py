"""Property-based tests (hypothesis) of every form and URL parameter of the shop, sent
through nginx to the running cluster: slugs, pagination, cart quantities, odd Unicode,
huge bodies, wrong methods, missing CSRF tokens. Every answer is below 500, and every
refusal is a 4xx page a person can read (HTML with a heading) or, for the cart's script
calls, JSON naming the error.

At least ``MIN_REQUESTS`` requests per run, over one keep-alive connection, from this
host (127.0.0.1), which nginx's POST limit does not count (deploy/nginx/nginx.conf.tmpl;
tests/deploy/test_request_limits.py tests the limit itself). Order-form posts name a
fresh client in X-Forwarded-For, as the cluster tests do, so the form's own per-client
limit does not answer them all with 429; their email is never valid, so no order is
placed and no cake baked, while every other field is still checked.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.orders.conftest import fake_client_address

MIN_REQUESTS = 2000
CSRF = secrets.token_hex(16)  # a token of our own choosing, in the cookie and the form
FUZZ = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SENT = {"requests": 0}

odd_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=0, max_size=60)
slugs = st.one_of(
    st.from_regex(r"[a-z0-9_-]{1,70}", fullmatch=True),
    odd_text,
    st.sampled_from(["", ".", "..", "%00", "a/b", "-", "_", "0" * 300]),
)
numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["0", "1", "2", "-1", "1e3", "0x10", " 1", "١", "²"]),
    odd_text,
)
methods = st.sampled_from(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
shop_paths = st.sampled_from(
    [
        "/",
        "/cart/",
        "/cart.json",
        "/cart/add/{slug}/",
        "/cart/remove/{slug}/",
        "/orders/special/new/",
        "/orders/00000000-0000-0000-0000-000000000000/",
        "/orders/00000000-0000-0000-0000-000000000000/status.json",
        "/products/{slug}/",
        "/categories/{category}/",
        "/categories/{category}/page/2/",
    ]
)


@pytest.fixture(scope="module")
def shop(lb_url: str, product_slug: str) -> Iterator[Shop]:
    client = requests.Session()  # keep-alive: one connection for the whole run
    client.cookies.set("csrftoken", CSRF)
    home = client.get(f"{lb_url}/", timeout=10).text
    categories = re.findall(r'href="/categories/([\w-]+)/"', home)
    assert categories, "no category on the home page"
    yield Shop(lb_url, client, product_slug, categories[0])
    client.close()
    print(f"\n{SENT['requests']} generated requests through nginx, none answered 5xx")
    assert SENT["requests"] >= MIN_REQUESTS, f"only {SENT['requests']} requests were sent"


class Shop:
    def __init__(self, url: str, client: requests.Session, product: str, category: str):
        self.url, self.client, self.product, self.category = url, client, product, category

    def path(self, template: str) -> str:
        return template.format(slug=self.product, category=self.category)

    def send(self, method: str, path: str, **kwargs: object) -> requests.Response:
        """One request through nginx; fails the test unless the answer is clear."""
        SENT["requests"] += 1
        response = self.client.request(
            method, f"{self.url}{path}", allow_redirects=False, timeout=30, **kwargs
        )
        assert_clear(response, f"{method} {path[:200]}")
        return response


def assert_clear(response: requests.Response, what: str) -> None:
    assert response.status_code < 500, f"{what}: HTTP {response.status_code}\n{response.text[:800]}"
    if response.status_code < 400 or response.request.method == "HEAD":
        return
    kind = response.headers.get("Content-Type", "")
    if kind.startswith("application/json"):
        assert json.loads(response.text).get("error"), f"{what}: JSON {response.status_code}"
    else:
        assert kind.startswith("text/html"), f"{what}: {response.status_code} as {kind!r}"
        assert re.search(r"<h1>.+</h1>", response.text, re.S), f"{what}: no heading"


def _q(text: str) -> str:
    return quote(text, safe="")


def _form(**fields: str) -> dict[str, str]:
    return {"csrfmiddlewaretoken": CSRF, **fields}


@settings(FUZZ, max_examples=300)
@given(slug=slugs)
def test_product_and_category_slugs(shop, slug):
    shop.send("GET", f"/products/{_q(slug)}/")
    shop.send("GET", f"/categories/{_q(slug)}/")


@settings(FUZZ, max_examples=250)
@given(number=numbers)
def test_pagination(shop, number):
    shop.send("GET", f"/categories/{shop.category}/?page={_q(number)}")
    if re.fullmatch(r"-?\d{1,40}", number):
        shop.send("GET", f"/categories/{shop.category}/page/{number}/")


@settings(FUZZ, max_examples=300)
@given(quantity=numbers, known=st.booleans(), slug=slugs, as_json=st.booleans())
def test_cart_quantities(shop, quantity, known, slug, as_json):
    target = shop.product if known else _q(slug)
    headers = {"Accept": "application/json"} if as_json else {}
    shop.send("POST", f"/cart/add/{target}/", data=_form(quantity=quantity), headers=headers)
    shop.send("POST", f"/cart/remove/{target}/", data=_form(), headers=headers)


@settings(FUZZ, max_examples=400)
@given(
    product=st.one_of(slugs, st.just("")),
    writing=st.one_of(
        odd_text,
        st.text(st.sampled_from("aé\u0301\u0300\u0308Å中😀\u200d\u202e\t\n "), max_size=60),
    ),
    pickup=st.one_of(
        st.dates(min_value=date(1, 1, 1)).map(date.isoformat),
        st.integers(-5, 200).map(
            lambda d: (datetime.now(tz=UTC).date() + timedelta(days=d)).isoformat()
        ),
        odd_text,
    ),
    email=st.one_of(st.just(""), odd_text.filter(lambda text: "@" not in text)),
    token=st.one_of(st.just(""), st.uuids().map(str), odd_text),
    choose_known=st.booleans(),
)
def test_the_order_form_with_odd_unicode(
    shop, product, writing, pickup, email, token, choose_known
):
    form = _form(
        product=shop.product if choose_known else product,
        writing=writing,
        pickup_date=pickup,
        email=email,
        token=token,
    )
    answer = shop.send(
        "POST",
        "/orders/special/new/",
        data=form,
        headers={"X-Forwarded-For": fake_client_address()},
    )
    assert answer.status_code in {400, 429}  # never an order: the email is never valid


@settings(FUZZ, max_examples=150)
@given(uuid=st.one_of(st.uuids().map(str), odd_text), json_status=st.booleans())
def test_order_pages(shop, uuid, json_status):
    shop.send("GET", f"/orders/{_q(uuid)}/{'status.json' if json_status else ''}")


@settings(FUZZ, max_examples=350)
@given(method=methods, path=shop_paths, with_token=st.booleans())
def test_wrong_methods_and_missing_csrf_tokens(shop, method, path, with_token):
    data = _form() if with_token else {"quantity": "1"}
    headers = {"X-Forwarded-For": fake_client_address()}
    response = shop.send(method, shop.path(path), data=data, headers=headers)
    if method in {"POST", "PUT", "PATCH", "DELETE"} and not with_token:
        assert response.status_code in {403, 405}, (method, path, response.status_code)


@settings(FUZZ, max_examples=150)
@given(query=st.dictionaries(odd_text, odd_text, max_size=5), path=shop_paths)
def test_odd_query_strings(shop, query, path):
    shop.send("GET", shop.path(path), params=query)


@settings(FUZZ, max_examples=40)
@given(
    size=st.integers(min_value=900_000, max_value=1_200_000),
    path=shop_paths,
    as_files=st.booleans(),
)
def test_huge_bodies(shop, size, path, as_files):
    body = "x" * size
    if as_files:
        response = shop.send(
            "POST", shop.path(path), data=_form(), files={"upload": ("cake.png", body)}
        )
    else:
        response = shop.send("POST", shop.path(path), data=_form(writing=body))
    if size > 1024 * 1024:
        assert response.status_code == 413
