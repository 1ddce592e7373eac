"""Accounts, sessions, CSRF, flash messages and security headers, including the attacks."""
import os
import re
import subprocess
import sys
import urllib.parse

import pytest

import models
from conftest import PASSWORD, csrf_of, subprocess_env
from models import User

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def register(client, **values):
    form = client.get("/accounts/register").forms["register-form"]
    data = {"username": "alice", "email": "alice@example.com", "password": PASSWORD,
            "confirm": PASSWORD}
    data.update(values)
    for name, value in data.items():
        form[name] = value
    return form.submit(expect_errors=True)


def test_register_logs_in_and_shows_the_account(client):
    response = register(client)
    assert response.status_int == 303
    page = response.follow()
    assert "Welcome, alice!" in page.text and "alice@example.com" in page.text
    user = User.get(User.username == "alice")
    assert user.password.startswith("pbkdf2_sha256$") and PASSWORD not in user.password
    assert "Welcome" not in client.get("/accounts/").text    # a flash shows once


@pytest.mark.parametrize("values,message", [
    ({"username": ""}, "This field is required."),
    ({"username": "bad name!"}, "Use letters, digits"),
    ({"email": "not-an-email"}, "Enter a valid email address."),
    ({"confirm": "something else"}, "The passwords differ."),
    ({"password": "short", "confirm": "short"}, "at least 8 characters"),
    ({"password": "1234567890", "confirm": "1234567890"}, "all digits"),
    ({"password": "alicealice", "confirm": "alicealice", "username": "alicealice"},
     "cannot be the username"),
])
def test_register_rejects_bad_input_and_keeps_it(client, values, message):
    response = register(client, **values)
    assert response.status_int == 400
    assert message in response.text
    if values.get("email"):
        assert 'value="not-an-email"' in response.text
    assert User.select().count() == 0


def test_register_refuses_a_taken_username(client, make_user):
    make_user("alice")
    response = register(client, username="ALICE")
    assert response.status_int == 400 and "This username is taken." in response.text


def test_xss_in_echoed_fields_is_escaped(client):
    payload = '"><script>alert(1)</script>'
    response = register(client, username=payload, email=payload)
    assert response.status_int == 400
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;" in response.text


def test_login_logout_cycle(client, make_user):
    make_user("alice")
    form = client.get("/accounts/login").forms["login-form"]
    form["username"], form["password"] = "alice", PASSWORD
    page = form.submit().follow()
    assert "Welcome back, alice." in page.text and "Log out" in page.text
    logout = [f for f in page.forms.values() if f.action == "/accounts/logout"][0]
    page = logout.submit().follow()
    assert "You have been logged out." in page.text and "Log in" in page.text
    client.get("/accounts/", status=303)


def test_logout_by_get_is_refused(client, login_as):
    login_as("alice")
    client.get("/accounts/logout", status=405)
    assert "alice" in client.get("/accounts/").text


def test_wrong_password_and_inactive_user_are_refused(client, make_user):
    make_user("alice")
    make_user("ghost", is_active=False)
    for username, password in [("alice", "wrong password"), ("ghost", PASSWORD),
                               ("nobody", PASSWORD)]:
        form = client.get("/accounts/login").forms["login-form"]
        form["username"], form["password"] = username, password
        response = form.submit(status=400)
        assert "do not match an active account" in response.text
        assert 'value="%s"' % username in response.text


def test_login_follows_next_only_on_this_site(client, make_user):
    make_user("alice")
    for target, expected in [("/orders", "/orders"), ("https://evil.example/", "/"),
                             ("//evil.example/", "/"), ("/\\evil.example", "/"),
                             ("javascript:alert(1)", "/")]:
        page = client.get("/accounts/login", {"next": target})
        form = page.forms["login-form"]
        form["username"], form["password"] = "alice", PASSWORD
        response = form.submit(status=303)
        assert urllib.parse.urlsplit(response.headers["Location"]).path == expected
        assert urllib.parse.urlsplit(response.headers["Location"]).hostname == "localhost"
        client.post("/accounts/logout", {"csrf_token": csrf_of(client)})


def test_login_required_pages_redirect_with_next(client):
    response = client.get("/accounts/password", status=303)
    assert response.headers["Location"].endswith("/accounts/login?next=%2Faccounts%2Fpassword")


def test_session_id_changes_at_login(client, make_user, csrf):
    make_user("alice")
    # An attacker plants a session id, e.g. by adding to a cart in the victim's browser.
    client.post("/cart/items", {"product_id": "1", "quantity": "1",
                                                       "csrf_token": csrf()}, status=404)
    planted = client.cookies.get("storefront_session")
    assert planted
    form = client.get("/accounts/login").forms["login-form"]
    form["username"], form["password"] = "alice", PASSWORD
    form.submit(status=303)
    assert client.cookies["storefront_session"] != planted
    client.set_cookie("storefront_session", planted)
    client.get("/accounts/", status=303)     # the planted id is not logged in


def test_logout_kills_the_session_server_side(client, login_as, csrf):
    login_as("alice")
    stolen = client.cookies["storefront_session"]
    client.post("/accounts/logout", {"csrf_token": csrf()}, status=303)
    client.set_cookie("storefront_session", stolen)
    client.get("/accounts/", status=303)


def test_a_deactivated_account_is_logged_out_at_once(client, login_as):
    alice = login_as("alice")
    User.update(is_active=False).where(User.id == alice.id).execute()
    client.get("/accounts/", status=303)
    page = client.get("/")
    assert "Log in" in page.text and "Log out" not in page.text


def test_tampered_session_cookie_is_not_logged_in(client, login_as):
    login_as("alice")
    cookie = client.cookies["storefront_session"]
    client.set_cookie("storefront_session", cookie[:-4] + ("0000" if cookie[-4:] != "0000" else "1111"))
    client.get("/accounts/", status=303)
    assert "Log in" in client.get("/").text


@pytest.mark.parametrize("secure", [False, True])
def test_session_cookie_flags(settings, make_user, secure):
    from webtest import TestApp
    import app as storefront
    settings.secure_cookies = secure
    client = TestApp(storefront.build(settings), extra_environ={
        "REMOTE_ADDR": "127.0.0.1", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "https" if secure else "http"})
    make_user("alice")
    page = client.get("/accounts/login")
    csrf_cookie = [c for c in page.headers.getall("Set-Cookie") if "storefront_csrf=" in c][0]
    form = page.forms["login-form"]
    form["username"], form["password"] = "alice", PASSWORD
    response = form.submit(status=303)
    cookie = [c for c in response.headers.getall("Set-Cookie") if "storefront_session=" in c][0]
    for each in (cookie, csrf_cookie):
        assert "HttpOnly" in each and "samesite=lax" in each.lower()
        assert ("secure" in each.lower()) == secure


def test_post_without_or_with_a_stale_csrf_token_is_refused(client, login_as, csrf):
    login_as("alice")
    for data in [{}, {"csrf_token": "stale-token"}, {"csrf_token": ""}]:
        response = client.post("/accounts/logout", data, status=403)
        assert "security token" in response.text
    assert "alice" in client.get("/accounts/").text
    client.post("/accounts/logout", {"csrf_token": csrf()}, status=303)


def test_anonymous_forms_carry_a_signed_cookie_token(client, make_user):
    make_user("alice")
    page = client.get("/accounts/login")
    assert "storefront_session" not in client.cookies      # no session just for a form
    cookie = client.cookies["storefront_csrf"]
    form = page.forms["login-form"]
    form["username"], form["password"] = "alice", PASSWORD
    client.set_cookie("storefront_csrf", "forged." + cookie.split(".")[1])
    assert "security token" in form.submit(status=403).text
    assert "storefront_session" not in client.cookies      # not logged in
    client.set_cookie("storefront_csrf", cookie)
    form.submit(status=303)                                # the signed cookie's token works
    assert "alice" in client.get("/accounts/").text


def test_csrf_header_is_accepted_and_json_api_is_no_way_around(client, login_as, csrf):
    login_as("alice")
    # A JSON body is no way around the token, on a page's URL or on the API.
    client.post_json("/cart/items", {"product_id": 1, "quantity": 1}, status=403)
    client.post_json("/api/carts", {}, status=403)
    assert models.Cart.select().count() == 0
    client.post("/accounts/logout", headers={"X-CSRF-Token": "wrong"}, status=403)
    assert "alice" in client.get("/accounts/").text
    client.post("/accounts/logout", headers={"X-CSRF-Token": csrf()}, status=303)
    client.get("/accounts/", status=303)


def test_brute_force_is_slowed_then_refused(client, make_user, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: slept.append(seconds))
    slept = []
    make_user("alice")
    statuses = []
    for attempt in range(models.LOGIN_MAX_FAILURES + 2):
        form = client.get("/accounts/login").forms["login-form"]
        form["username"], form["password"] = "alice", f"guess {attempt}"
        statuses.append(form.submit(expect_errors=True).status_int)
    assert statuses[:models.LOGIN_MAX_FAILURES] == [400] * models.LOGIN_MAX_FAILURES
    assert statuses[-1] == 429
    assert slept, "repeated failures should be slowed down"
    form = client.get("/accounts/login").forms["login-form"]
    form["username"], form["password"] = "alice", PASSWORD
    response = form.submit(status=429)    # even the right password waits out the lockout
    assert "Too many failed logins" in response.text and response.headers["Retry-After"]


def test_the_throttle_ignores_forwarded_for_headers(client, make_user, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    make_user("alice")
    for attempt in range(models.LOGIN_MAX_FAILURES):
        form = client.get("/accounts/login").forms["login-form"]
        form["username"], form["password"] = f"user{attempt}", "nope nope"
        form.submit(status=400, headers={"X-Forwarded-For": f"10.0.0.{attempt}"})
    form = client.get("/accounts/login").forms["login-form"]
    form["username"], form["password"] = "someone", "nope nope"
    form.submit(status=429)       # the address is REMOTE_ADDR, whatever the header claims


def test_password_change(client, login_as):
    login_as("alice")
    form = client.get("/accounts/password").forms["password-form"]
    form["old_password"], form["password"], form["confirm"] = "wrong", "new pass 123", "new pass 123"
    response = form.submit(status=400)
    assert "This is not your current password." in response.text
    form = response.forms["password-form"]
    form["old_password"], form["password"], form["confirm"] = PASSWORD, "new pass 123", "new pass 123"
    assert "Your password has been changed." in form.submit(status=303).follow().text
    assert models.authenticate("alice", "new pass 123") is not None


def test_security_headers_on_every_kind_of_response(client, shop):
    for path, status in [("/", 200), ("/nope", 404), ("/static/css/site.css", 200),
                         ("/accounts/login", 200)]:
        response = client.get(path, status=status)
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp


def test_pages_have_no_inline_script_or_style(client, shop, login_as):
    login_as("alice")
    for path in ["/", "/products", "/products/1", "/cart", "/accounts/", "/playground/"]:
        text = client.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), path
        assert " style=" not in text and "<style" not in text, path


def test_create_superuser_no_input_is_staff(client, settings, tmp_path):
    env = subprocess_env(tmp_path, DATABASE_URL=settings.database_url,
                         SUPERUSER_PASSWORD="a fine password")
    result = subprocess.run([sys.executable, "app.py", "createsuperuser", "--username", "root",
                             "--email", "root@example.com", "--no-input"], env=env,
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "Superuser 'root' created." in result.stdout
    root = User.get(User.username == "root")
    assert root.is_staff and root.is_superuser and root.is_active
    form = client.get("/accounts/login").forms["login-form"]
    form["username"], form["password"] = "root", "a fine password"
    form.submit(status=303)
    assert "Administration" in client.get("/admin/", status=200).text


def test_account_page_lists_the_latest_orders(client, login_as, shop):
    user = login_as("alice")
    assert "No orders yet" in client.get("/accounts/").text
    customer = models.Customer.select().first()
    customer.user = user
    customer.save()
    for _ in range(6):
        models.Order.create(customer=customer)
    page = client.get("/accounts/")
    linked = {int(n) for n in re.findall(r'href="/orders/(\d+)"', page.text)}
    latest = customer.orders.order_by(models.Order.placed_at.desc(), models.Order.id.desc())
    assert linked == {order.id for order in latest.limit(5)}
