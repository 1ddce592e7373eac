"""What visitors leave behind, and what one of them may make: clearsessions, the lifetimes of
sessions and carts, the carts (and sessions) one address may make in a while, and rotating the
secret key without logging anyone out."""
import datetime
import os
import re
import time

import pytest

import app as storefront
import models
from conftest import REDIS_URL, csrf_of, new_client, twin
from models import Cart, CartItem, LoginFailure

OLD_KEY = "test-secret-key"         # conftest's
NEW_KEY = "a-new-key-" + "x" * 40


def session_files(settings):
    folder = os.path.join(settings.data_dir, "sessions")
    return [os.path.join(d, n) for d, _, names in os.walk(folder) for n in names
            if n.endswith(".cache")]


def age(path, seconds):
    then = time.time() - seconds
    os.utime(path, (then, then))


@pytest.fixture
def shop(shop):
    models.Product.update(inventory=100).execute()      # whatever the demo data left in stock


def add_to_cart(client, product_id=1):
    return client.post("/cart/items", {"product_id": product_id, "quantity": 1,
                                       "csrf_token": csrf_of(client)}, expect_errors=True)


@pytest.mark.skipif(bool(REDIS_URL), reason="sessions in Redis expire by themselves")
def test_clearsessions_deletes_what_was_left_behind_and_nothing_else(
        client, wsgi, shop, login_as, settings, capsys):
    day = 24 * 3600
    anonymous = new_client(wsgi)
    add_to_cart(anonymous)                       # an anonymous session with a cart
    login_as("alice")                            # a logged-in one
    files = {}
    for path in session_files(settings):
        files["alice" if storefront._logged_in(settings, os.path.basename(path))
              else "anonymous"] = path
    assert set(files) == {"alice", "anonymous"}
    age(files["anonymous"], 2 * day)             # past a day: gone
    age(files["alice"], 2 * day)                 # a login lasts 14 days: kept
    program = new_client(wsgi)                   # no cookies: the API as a program calls it
    api_cart = program.post("/api/carts").json["id"]
    program.post_json(f"/api/carts/{api_cart}/items", {"product_id": 2, "quantity": 1})
    fresh = Cart.create()
    CartItem.create(cart=fresh, product=3, quantity=1)
    alices = models.cart_of(models.User.get(username="alice"))   # an account's: never abandoned
    CartItem.create(cart=alices, product=4, quantity=1)
    Cart.update(touched_at=models.utcnow() - datetime.timedelta(days=2)).where(
        Cart.id != fresh.id).execute()           # the web cart and the API cart: abandoned
    old = models.utcnow() - models.LOGIN_WINDOW - datetime.timedelta(minutes=1)
    LoginFailure.insert_many([{"key": "user:x", "failed_at": old},
                              {"key": "user:y", "failed_at": models.utcnow()}]).execute()
    storefront.cmd_clearsessions(None)
    said = capsys.readouterr().out
    assert said.strip() == ("Deleted 1 expired session(s), 2 abandoned cart(s) with 2 item(s), "
                            "1 old failed login(s).")
    assert sorted(session_files(settings)) == [files["alice"]]
    assert {c.id for c in Cart.select()} == {fresh.id, alices}
    assert CartItem.select().count() == 2
    assert [f.key for f in LoginFailure.select()] == ["user:y"]
    assert "Log out" in client.get("/accounts/").text          # alice is still logged in
    age(files["alice"], 15 * day)
    storefront.cmd_clearsessions(None)
    assert session_files(settings) == []


def test_an_anonymous_session_is_short_lived_a_login_is_not(client, wsgi, shop, login_as,
                                                            monkeypatch):
    anonymous = new_client(wsgi)
    assert add_to_cart(anonymous).status_int == 303
    login_as("alice")
    assert add_to_cart(client).status_int == 303
    monkeypatch.setattr(storefront.settings, "anonymous_session_timeout", 1)
    time.sleep(1.1)
    assert 'class="badge">0<' in anonymous.get("/cart").text        # idle past its lifetime
    page = client.get("/cart").text
    assert "Log out" in page and 'class="badge">1<' in page


@pytest.mark.skipif(not REDIS_URL, reason="needs STOREFRONT_TEST_REDIS_URL")
def test_in_redis_an_anonymous_sessions_key_expires_in_a_day_a_logins_in_14(
        wsgi, shop, login_as, client):
    import redis
    store = redis.Redis.from_url(f"{REDIS_URL}/15")
    add_to_cart(new_client(wsgi))
    (anonymous,) = store.keys()
    login_as("alice")
    (logged_in,) = set(store.keys()) - {anonymous}
    settings = storefront.settings
    assert settings.anonymous_session_timeout < store.ttl(anonymous) <= \
        settings.anonymous_session_timeout + storefront.SESSION_TOUCH_EVERY
    assert store.ttl(logged_in) > settings.anonymous_session_timeout * 2


def test_one_address_flooding_cart_adds_gets_429_and_makes_no_more_sessions(
        wsgi, shop, settings, monkeypatch):
    """Attack: one CSRF cookie let POST /cart/items make a session and a cart each time."""
    monkeypatch.setattr(models, "CARTS_PER_CLIENT", 5)
    attacker = new_client(wsgi, "198.51.100.7")
    token = csrf_of(attacker)
    answers = []
    for _ in range(models.CARTS_PER_CLIENT + 5):
        again = twin(attacker, "198.51.100.7")        # the CSRF cookie, no session cookie
        answers.append(again.post("/cart/items", {"product_id": 1, "quantity": 1,
                                                  "csrf_token": token}, expect_errors=True))
    statuses = [a.status_int for a in answers]
    assert statuses == [303] * models.CARTS_PER_CLIENT + [429] * 5
    assert int(answers[-1].headers["Retry-After"]) > 0
    assert "storefront_session" not in answers[-1].headers.get("Set-Cookie", "")
    assert Cart.select().count() == models.CARTS_PER_CLIENT
    if not REDIS_URL:
        assert len(session_files(settings)) == models.CARTS_PER_CLIENT
    assert add_to_cart(new_client(wsgi, "203.0.113.5")).status_int == 303   # others may


def rotated(settings, fallbacks):
    """The same site after its key was changed to NEW_KEY, with the old one as a fallback or
    not."""
    environ = dict(settings._environ, STOREFRONT_SECRET_KEY=NEW_KEY,
                   STOREFRONT_SECRET_KEY_FALLBACKS=OLD_KEY if fallbacks else "")
    return storefront.build(storefront.Settings(environ))


@pytest.mark.parametrize("fallbacks", [True, False])
def test_rotating_the_secret_key_logs_no_one_out(client, wsgi, shop, login_as, settings,
                                                 make_user, fallbacks):
    login_as("alice")
    add_to_cart(client)
    form_token = csrf_of(client)                # a form opened before the rotation
    visitor = new_client(wsgi)
    visitor_token = csrf_of(visitor)            # a visitor's signed CSRF cookie
    bob = make_user("bob")
    link = storefront.url("password_reset_confirm", uid=bob.id,
                          token=models.make_reset_token(bob, OLD_KEY))
    after = rotated(settings, fallbacks)
    alice, visitor = twin(client), twin(visitor)
    alice.app = visitor.app = after
    page = alice.get("/accounts/", expect_errors=True)
    if not fallbacks:                           # what the fallbacks prevent
        assert page.status_int == 303 and "/accounts/login" in page.headers["Location"]
        return
    assert page.status_int == 200 and "alice" in page.text
    assert 'class="badge">1<' in alice.get("/cart").text
    changed = alice.post("/cart/items", {"product_id": 2, "quantity": 1,
                                         "csrf_token": form_token})
    assert changed.status_int == 303
    cookie = re.search(r"storefront_session=([0-9a-f]{40})(\w+)",
                       alice.get("/accounts/").request.headers["Cookie"])
    assert cookie                                  # the session cookie, as the browser holds it
    posted = visitor.post("/accounts/login", {"username": "alice", "password": "wrong",
                                              "csrf_token": visitor_token}, expect_errors=True)
    assert posted.status_int == 400             # the form was taken, the password was wrong
    assert visitor.get(link).status_int == 303  # the old link still opens its form
    fresh = new_client(after)
    csrf_of(fresh)
    signed = fresh.cookies["storefront_csrf"]
    assert storefront.unsign(signed) and signed == storefront.sign(storefront.unsign(signed),
                                                                   NEW_KEY)
