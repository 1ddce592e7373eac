"""API tokens (issue 26): made, shown once and revoked on the account page and in the admin,
kept as a hash; `Authorization: Bearer` acts as the token's user on the JSON API, with no
cookie and no CSRF token; a wrong, revoked or expired token is a 401 counted as a failed
login."""
import datetime
import hashlib
import re

import pytest

import app as storefront
import models
from conftest import new_client
from models import ApiToken, LoginFailure, Order
from test_api import give_profile, gizmo, is_json_error, widget  # noqa: F401 (fixtures)


def make_token(client, name="script", expires=""):
    """Make a token on the account page (logged in already); the token as the page shows it."""
    form = client.get("/accounts/").forms["token-form"]
    form["name"], form["expires"] = name, expires
    page = form.submit()
    assert page.status_int == 200, page.text
    return re.search(r'<code id="new-token">([^<]+)</code>', page.text).group(1)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def program(wsgi):
    """A client that sends no cookie, as a program would: it never keeps one."""
    client = new_client(wsgi)
    client.cookiejar.set_policy(type(client.cookiejar._policy)(allowed_domains=[]))
    return client


def test_a_token_is_shown_once_and_only_its_hash_is_kept(client, login_as):
    user = login_as("alice")
    token = make_token(client, "nightly export")
    assert re.fullmatch(r"sf_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", token)
    row = ApiToken.get()
    assert (row.user_id, row.name, row.revoked) == (user.id, "nightly export", False)
    assert row.hash == hashlib.sha256(token.encode()).hexdigest()
    secret = token.split("_", 2)[2][-20:]     # (the secret may hold "_" itself)
    assert not any(secret in str(value) for value in row.__data__.values())
    page = client.get("/accounts/")
    assert "nightly export" in page.text and token not in page.text       # once only
    assert f"sf_{row.prefix}_" in page.text and "never" in page.text      # never used yet


def test_a_token_orders_through_the_api_with_no_cookie_and_no_csrf(client, login_as, program,
                                                                   widget, gizmo):
    give_profile(login_as("alice"))
    headers = bearer(make_token(client))
    cart_id = program.post("/api/carts", headers=headers, status=201).json["id"]
    program.post_json(f"/api/carts/{cart_id}/items", {"product_id": widget.id, "quantity": 2},
                      headers=headers, status=201)
    placed = program.post_json("/api/orders", {"cart_id": cart_id}, headers=headers, status=201)
    order = Order.get()
    assert placed.json["id"] == order.id and order.customer.user.username == "alice"
    listed = program.get("/api/orders", headers=headers)
    assert [o["id"] for o in listed.json["results"]] == [order.id]
    docs = program.get("/api/docs", headers=headers)     # a page for people, read with it
    assert "alice" in docs.text
    for response in (placed, listed, docs):
        assert "Set-Cookie" not in response.headers
    assert not program.cookies


def test_a_token_needs_no_csrf_even_beside_a_browsers_cookies(client, login_as, widget):
    give_profile(login_as("alice"))
    headers = bearer(make_token(client))
    cart_id = client.post("/api/carts", headers=headers).json["id"]
    client.post_json(f"/api/carts/{cart_id}/items", {"product_id": widget.id, "quantity": 1},
                     headers=headers)
    client.post_json("/api/orders", {"cart_id": cart_id}, headers=headers, status=201)
    # The cookies alone still need the session's CSRF token.
    client.post_json("/api/orders", {"cart_id": cart_id}, status=403)


def test_a_token_acts_as_its_user_and_no_one_else(client, login_as, make_user, program,
                                                  widget):
    give_profile(login_as("alice"))
    alices = bearer(make_token(client))
    bob = make_user("bob")
    customer = give_profile(bob)
    cart = models.new_cart("192.0.2.1")
    models.add_to_cart(cart.id, widget.id, 1)
    bobs_order = models.place_order(cart.id, customer)
    program.get(f"/api/orders/{bobs_order.id}", headers=alices, status=404)
    assert program.get("/api/orders", headers=alices).json["results"] == []


def test_a_staff_token_opens_only_the_api_never_the_admin(client, login_as, program):
    login_as("boss", is_staff=True, is_superuser=True)
    headers = bearer(make_token(client))
    program.get("/api/orders", headers=headers, status=200)
    page = program.get("/admin/", headers=headers)      # the admin knows sessions only
    assert page.status_int == 303 and "/accounts/login" in page.headers["Location"]


def test_a_deactivated_users_token_is_refused(client, login_as, program):
    user = login_as("alice")
    headers = bearer(make_token(client))
    program.get("/api/orders", headers=headers, status=200)
    models.User.update(is_active=False).where(models.User.id == user.id).execute()
    is_json_error(program.get("/api/orders", headers=headers, status=401), 401)


def revoke(client, token):
    row = ApiToken.get(ApiToken.prefix == token.split("_")[1])
    client.get("/accounts/").forms[f"revoke-{row.id}"].submit().follow()


def expire(client, token):
    ApiToken.update(expires_at=models.utcnow() - datetime.timedelta(seconds=1)).execute()


def garble(client, token):
    return token[:-1] + ("A" if token[-1] != "A" else "B")


@pytest.mark.parametrize("spoil", [revoke, expire, garble, lambda client, token: "nonsense"])
def test_a_wrong_revoked_or_expired_token_is_a_401_counted_as_a_failed_login(
        client, login_as, program, spoil):
    login_as("alice")
    token = make_token(client)
    program.get("/api/products", headers=bearer(token), status=200)
    token = spoil(client, token) or token
    for path in ("/api/products", "/api/orders"):       # public or not, a bad token is refused
        response = program.get(path, headers=bearer(token), status=401)
        assert is_json_error(response, 401)["message"] == \
            "The token is wrong, revoked or expired."
        assert response.headers["WWW-Authenticate"].startswith("Bearer ")
        assert "Set-Cookie" not in response.headers
    assert LoginFailure.select().where(LoginFailure.key == "client:127.0.0.1").count() == 2


def test_wrong_tokens_meet_the_login_throttle(client, login_as, program):
    login_as("alice")
    good = bearer(make_token(client))
    for _ in range(models.PAIR_FREE_FAILURES):
        program.get("/api/products", headers=bearer("sf_guess"), status=401)
    refused = program.get("/api/products", headers=bearer("sf_guess"), status=429)
    assert is_json_error(refused, 429) and int(refused.headers["Retry-After"]) >= 1
    program.get("/api/products", headers=good, status=200)       # a real token still works
    # ... and the failures count against the client's password logins too.
    LoginFailure.insert_many([{"key": "client:127.0.0.1"}] * models.CLIENT_MAX_FAILURES).execute()
    form = new_client(client.app).get("/accounts/login").forms["login-form"]
    form["username"], form["password"] = "alice", "whatever"
    assert form.submit(status=429)


def test_last_used_is_written_at_most_once_a_minute(client, login_as, program):
    login_as("alice")
    headers = bearer(make_token(client))
    program.get("/api/products", headers=headers)
    first = ApiToken.get().last_used_at
    assert first is not None
    program.get("/api/products", headers=headers)
    assert ApiToken.get().last_used_at == first                     # not written again
    earlier = first - models.TOKEN_USE_NOTED_EVERY
    ApiToken.update(last_used_at=earlier).execute()
    program.get("/api/products", headers=headers)
    assert ApiToken.get().last_used_at > first
    table = client.get("/accounts/").html.select_one(".account-tokens table").text
    assert table.count("never") == 1        # it never expires, and was used (today)


def test_a_token_may_be_made_to_expire(client, login_as):
    login_as("alice")
    make_token(client, expires="7")
    left = ApiToken.get().expires_at - models.utcnow()
    assert datetime.timedelta(days=6, hours=23) < left <= datetime.timedelta(days=7)


def test_a_token_without_a_name_is_refused_on_the_form(client, login_as):
    login_as("alice")
    form = client.get("/accounts/").forms["token-form"]
    form["name"] = "  "
    page = form.submit(status=400)
    assert "Give the token a name" in page.text and not ApiToken.select().exists()


def test_no_one_revokes_someone_elses_token(client, login_as, make_user, csrf):
    bob = make_user("bob")
    row, _ = models.issue_token(bob, "bob's")
    login_as("alice")
    client.post(f"/accounts/tokens/{row.id}/revoke", {"csrf_token": csrf()}, status=404)
    client.post("/accounts/tokens/abc/revoke", {"csrf_token": csrf()}, status=404)
    assert not ApiToken.get().revoked


def test_the_admin_makes_anyones_token_and_shows_it_once(client, login_as, make_user, program):
    bob = make_user("bob")
    login_as("boss", is_staff=True, is_superuser=True)
    form = client.get("/admin/apitoken/add").forms["admin-form"]
    form["user"], form["name"] = str(bob.id), "bob's robot"
    page = form.submit()
    token = re.search(r'<code id="new-token">([^<]+)</code>', page.text).group(1)
    assert ApiToken.get().user_id == bob.id
    program.get("/api/orders", headers=bearer(token), status=200)
    assert token not in client.get(f"/admin/apitoken/{ApiToken.get().id}/").text


def test_staff_need_the_permission_for_tokens_and_a_superuser_for_a_superusers(
        client, login_as, make_user):
    boss = make_user("boss", is_staff=True, is_superuser=True)
    row, _ = models.issue_token(boss, "boss's")
    staff = login_as("clerk", is_staff=True)
    client.get("/admin/apitoken/add", status=403)
    models.UserPermission.insert_many([{"user": staff, "codename": f"apitoken.{verb}"}
                                       for verb in ("view", "add", "change")]).execute()
    form = client.get("/admin/apitoken/add").forms["admin-form"]
    form["user"], form["name"] = str(boss.id), "mine now"
    assert "Only a superuser" in form.submit(status=400).text
    assert ApiToken.select().count() == 1
    page = client.get(f"/admin/apitoken/{row.id}/")
    assert "change-form" not in page.forms or "name" not in page.forms["admin-form"].fields


def test_the_document_offers_the_token_to_every_operation(client):
    document = client.get("/api/openapi.json").json
    assert document["components"]["securitySchemes"]["bearer"] == dict(
        document["components"]["securitySchemes"]["bearer"], type="http", scheme="bearer")
    operations = [op for methods in document["paths"].values() for op in methods.values()]
    assert operations and all({"bearer": []} in op["security"] for op in operations)
    assert all("401" in op["responses"] for op in operations)
    page = client.get("/api/docs").text
    assert 'curl -s -H "Authorization: Bearer $STOREFRONT_TOKEN"' in page
