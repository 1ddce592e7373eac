"""Accounts, sessions, CSRF, flash messages and security headers, including the attacks."""
import datetime
import os
import re
import subprocess
import sys
import time
import urllib.parse

import pytest
from peewee import IntegrityError

import app as storefront
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
    ({"email": "alice@example.com\n"}, "Enter a valid email address."),   # was stored
    ({"confirm": "something else"}, "The passwords differ."),
    ({"password": "short", "confirm": "short"}, "at least 8 characters"),
    ({"password": "1234567890", "confirm": "1234567890"}, "all digits"),
    ({"password": "alicealice", "confirm": "alicealice", "username": "alicealice"},
     "too like the username"),
    ({"password": "alice1987", "confirm": "alice1987"}, "too like the username"),
    ({"password": "liddell.alice", "confirm": "liddell.alice",
      "email": "alice.liddell@example.com"}, "too like the email address"),
    ({"password": "iloveyou2", "confirm": "iloveyou2"}, "one of the most common"),
    ({"password": "Sunshine1", "confirm": "Sunshine1"}, "one of the most common"),
])
def test_register_rejects_bad_input_and_keeps_it(client, values, message):
    response = register(client, **values)
    assert response.status_int == 400
    assert message in response.text
    if values.get("email"):
        assert f'value="{values["email"].strip()}' in response.text
    assert User.select().count() == 0


def test_register_refuses_a_taken_username(client, make_user):
    make_user("alice")
    response = register(client, username="ALICE")
    assert response.status_int == 400 and "This username is taken." in response.text


def test_a_name_taken_while_registering_is_a_form_error(client, make_user, monkeypatch):
    """Attack (a double click): the second of two registrations for one name passed the
    form's check before the first was saved, and its save was a 500."""
    original = models.username_problem

    def taken_meanwhile(username, *args, **kwargs):
        problem = original(username, *args, **kwargs)
        monkeypatch.undo()
        make_user("bob")                # the other request saves first
        return problem
    monkeypatch.setattr(models, "username_problem", taken_meanwhile)
    response = register(client, username="bob")
    assert response.status_int == 400 and "This username is taken." in response.text
    assert User.select().where(User.username == "bob").count() == 1


@pytest.mark.parametrize("lookalike", ["ＡＤＭＩＮ", "Admin", "аdmin", "ａdmin"])
def test_no_username_can_pass_for_another(client, make_user, lookalike):
    """Full-width letters, another case or a Cyrillic "а" cannot make a second "admin"."""
    make_user("admin")
    response = register(client, username=lookalike)
    assert response.status_int == 400
    assert User.select().count() == 1


# Names that look like alice563: all Cyrillic (а ӏ і с е), a dotless ı, a small capital ʟ, a
# Latin alpha ɑ, a capital I.
LOOKALIKES = ["аӏісе563", "alıce563", "aʟice563", "ɑlice563", "aIice563"]


@pytest.mark.parametrize("lookalike", LOOKALIKES)
def test_a_name_that_looks_like_another_cannot_register(client, make_user, lookalike):
    """Attack (impersonation): a name of one alphabet, or with one letter that passes for
    another, registered beside the name it looks like."""
    make_user("alice563")
    response = register(client, username=lookalike, email="other@example.com")
    assert response.status_int == 400 and "This username is taken." in response.text, \
        f"expected {lookalike!r} to be refused beside alice563"
    assert User.select().count() == 1


@pytest.mark.parametrize("lookalike", LOOKALIKES)
def test_the_unique_key_itself_refuses_a_lookalike(wsgi, make_user, monkeypatch, lookalike):
    """The database's unique key compares the skeletons: a look-alike that got past the
    check (two registrations at once) is refused there."""
    make_user("alice563")
    monkeypatch.setattr(models, "username_problem", lambda *args, **kwargs: None)
    with pytest.raises(IntegrityError):
        User.create_user(lookalike, "other@example.com", PASSWORD)


def test_every_way_of_naming_a_user_keeps_names_unique(client, make_user, login_as, csrf):
    make_user("alice")
    with pytest.raises(models.ValidationError):
        User.create_user("ALICE", "other@example.com", PASSWORD)   # createsuperuser's path
    login_as("boss", is_staff=True, is_superuser=True)
    bob = make_user("bob")
    page = client.get(f"/admin/user/{bob.id}/")
    form = page.forms["admin-form"]
    form["username"] = "Alice"
    assert "This username is taken." in form.submit(status=400).text
    assert User.get_by_id(bob.id).username == "bob"
    make_user("Admin")                     # the first start's demo admin is then not made
    assert storefront.demo_admin_notice() == ""
    assert [u.username for u in User.select().where(
        User.username_key == models.username_key("admin"))] == ["Admin"]


def test_login_accepts_the_name_in_any_case_or_width(client, make_user):
    make_user("alice")
    form = client.get("/accounts/login").forms["login-form"]
    form["username"], form["password"] = "ＡＬＩＣＥ", PASSWORD
    assert form.submit().status_int == 303


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


def set_active(how, alice, active, boss=None):
    """Tick or untick alice's is_active: in the admin's form, by a bulk update or by save()."""
    if how == "the admin's form":
        form = boss.get(f"/admin/user/{alice.id}/").forms["admin-form"]
        form["is_active"] = active
        form.submit(status=303)
    elif how == "a bulk update":
        User.update(is_active=active).where(User.id == alice.id).execute()
    else:
        user = User.get_by_id(alice.id)
        user.is_active = active
        user.save()


@pytest.mark.parametrize("how", ["the admin's form", "a bulk update", "save()"])
def test_a_deactivation_ends_sessions_and_reset_links_for_good(wsgi, client, settings,
                                                               make_user, how):
    """Attack: an account deactivated (taken over, say) and reactivated later: the sessions
    and the reset links made before the deactivation worked again."""
    from conftest import new_client
    alice = make_user("alice")
    make_user("boss", is_staff=True, is_superuser=True)
    boss, intruder = new_client(wsgi), new_client(wsgi)
    assert log_in(boss, "boss").status_int == 303 and log_in(intruder).status_int == 303
    ask_for_reset(client, "alice@example.com")
    link = reset_link(mails(settings)[0])
    set_active(how, alice, False, boss)
    set_active(how, alice, True, boss)
    assert intruder.get("/accounts/", expect_errors=True).status_int == 303, \
        "expected the session of before the deactivation to stay logged out"
    assert client.get(link, expect_errors=True).status_int == 404, \
        "expected the reset link of before the deactivation to stay dead"
    assert log_in(new_client(wsgi)).status_int == 303          # the account itself works


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
    for path, status in [("/", 200), ("/nope", 404), ("/static/css/base.css", 200),
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


# --- A password change ends every other session ------------------------------------------

def log_in(client, username="alice", password=PASSWORD, **submit):
    form = client.get("/accounts/login").forms["login-form"]
    form["username"], form["password"] = username, password
    return form.submit(expect_errors=True, **submit)


def change_password(client, old=PASSWORD, new="a new secret 42"):
    form = client.get("/accounts/password").forms["password-form"]
    form["old_password"], form["password"], form["confirm"] = old, new, new
    return form.submit()


@pytest.mark.parametrize("session_url", ["", "memory"])    # files, memory (Redis: CI pass)
def test_a_password_change_logs_out_every_other_session(settings, make_user, session_url):
    """Attack: a stolen session cookie kept working after the victim changed the password."""
    import app as storefront
    from conftest import new_client
    settings.session_url = session_url
    wsgi = storefront.build(settings)
    make_user("alice")
    laptop, phone = new_client(wsgi), new_client(wsgi)
    assert log_in(laptop).status_int == 303 and log_in(phone).status_int == 303
    stolen = laptop.cookies["storefront_session"]
    assert "alice" in laptop.get("/accounts/").text
    page = change_password(laptop).follow()
    assert "Your password has been changed." in page.text
    assert "alice" in laptop.get("/accounts/").text             # the session that changed it
    phone.get("/accounts/", status=303)                         # every other one is out
    thief = new_client(wsgi)
    thief.set_cookie("storefront_session", stolen)
    thief.get("/accounts/", status=303)
    assert log_in(phone, password="a new secret 42").status_int == 303


def test_a_password_set_by_an_admin_logs_the_user_out_everywhere(client, wsgi, make_user):
    """Attack: after an admin reset a compromised account's password, the intruder's session
    stayed logged in."""
    from conftest import new_client
    alice = make_user("alice")
    make_user("boss", is_staff=True, is_superuser=True)
    intruder = new_client(wsgi)
    assert log_in(intruder).status_int == 303
    assert log_in(client, "boss").status_int == 303
    form = client.get(f"/admin/user/{alice.id}/password").forms["set-password-form"]
    form["password"] = form["confirm"] = "a fresh start 99"
    assert "was changed" in form.submit().follow().text
    intruder.get("/accounts/", status=303)
    assert "boss" in client.get("/accounts/").text               # the admin stays in
    # An admin who sets their own password there stays logged in too.
    boss = User.get(User.username == "boss")
    form = client.get(f"/admin/user/{boss.id}/password").forms["set-password-form"]
    form["password"] = form["confirm"] = "another start 77"
    form.submit(status=303)
    assert "boss" in client.get("/accounts/").text


def test_a_password_set_outside_the_web_logs_the_user_out(client, login_as):
    """The command line (changepassword) or the shell just save a new hash: that is enough."""
    alice = login_as("alice")
    alice.set_password("changed in the shell 1")
    alice.save()
    client.get("/accounts/", status=303)
    assert "Log in" in client.get("/cart").text


# --- The login throttle: no one can lock anyone else out ----------------------------------

@pytest.fixture
def no_sleep(monkeypatch):
    """Slowing down is recorded instead of slept."""
    slept = []
    monkeypatch.setattr("time.sleep", slept.append)
    return slept


def age_failures(seconds):
    """Move every recorded failed login `seconds` into the past."""
    for failure in models.LoginFailure.select():
        failure.failed_at -= datetime.timedelta(seconds=seconds)
        failure.save()


def test_an_attacker_cannot_lock_the_owner_out(wsgi, make_user, no_sleep):
    """Attack: five wrong passwords for alice, from anywhere, locked her out for 15 minutes."""
    from conftest import new_client
    make_user("alice")
    attacker = new_client(wsgi, "203.0.113.5")
    statuses = [log_in(attacker, password=f"guess {n}").status_int for n in range(10)]
    assert 429 in statuses                      # one address guessing: its attempts wait
    for n in range(20):                         # many addresses guessing at alice
        assert log_in(new_client(wsgi, f"198.51.100.{n}"), password=f"try {n}").status_int \
            == 400
    response = log_in(new_client(wsgi, "192.0.2.77"))
    assert response.status_int == 303 and "Welcome back, alice." in response.follow().text
    assert 0 < no_sleep[-1] <= models.LOGIN_MAX_DELAY     # slowed, not refused


def test_failures_at_many_names_do_not_lock_out_an_office(wsgi, make_user, no_sleep):
    """Attack: five failures for any names from one address (an office, or every client
    behind a proxy) locked out every user at that address, the admin included."""
    from conftest import new_client
    make_user("boss", is_staff=True)
    colleague, boss = new_client(wsgi, "192.0.2.10"), new_client(wsgi, "192.0.2.10")
    for attempt in range(20):
        assert log_in(colleague, f"user{attempt}", "nope nope").status_int == 400
    assert log_in(boss, "boss").status_int == 303


def test_the_guessers_own_attempts_are_slowed_and_a_success_clears_them(client, make_user,
                                                                      no_sleep):
    make_user("alice")
    for attempt in range(models.PAIR_FREE_FAILURES):
        assert log_in(client, password=f"typo {attempt}").status_int == 400
    refused = log_in(client)             # at once: even the right password waits a second
    assert refused.status_int == 429 and refused.headers["Retry-After"] == "1"
    assert "Too many failed logins for this account from your network. Try again in 1 second." \
        in refused.text
    age_failures(1)
    assert log_in(client, password="typo again").status_int == 400
    refused = log_in(client)
    assert refused.status_int == 429 and refused.headers["Retry-After"] == "2"  # it doubles
    age_failures(2)
    assert log_in(client).status_int == 303
    client.post("/accounts/logout", {"csrf_token": csrf_of(client)})
    assert log_in(client, password="one more typo").status_int == 400   # the pair was cleared
    assert log_in(client, password="and another").status_int == 400


def test_one_address_is_refused_only_after_many_failures(wsgi, make_user, no_sleep,
                                                         monkeypatch):
    from conftest import new_client
    monkeypatch.setattr(models, "CLIENT_MAX_FAILURES", 8, raising=False)
    make_user("alice")
    sprayer, elsewhere = new_client(wsgi, "203.0.113.5"), new_client(wsgi, "198.51.100.7")
    for attempt in range(8):
        assert log_in(sprayer, f"name{attempt}", "Password1").status_int == 400
    refused = log_in(sprayer)
    assert refused.status_int == 429 and "from your network" in refused.text
    assert refused.headers["Retry-After"] == str(15 * 60)
    assert "Try again in 15 minutes." in refused.text
    assert log_in(elsewhere).status_int == 303


def test_an_ipv6_network_counts_as_one_client(wsgi, make_user, no_sleep, monkeypatch):
    """Whoever has one IPv6 address has its whole /64: a new address per guess gains nothing."""
    from conftest import new_client
    monkeypatch.setattr(models, "CLIENT_MAX_FAILURES", 5, raising=False)
    make_user("alice")
    for n in range(5):
        log_in(new_client(wsgi, f"2001:db8:1:2::{n + 1:x}"), f"n{n}", "x x x x")
    assert log_in(new_client(wsgi, "2001:db8:1:2::ff")).status_int == 429
    assert log_in(new_client(wsgi, "2001:db8:1:3::1")).status_int == 303


def test_forwarded_for_from_an_untrusted_client_is_ignored(wsgi, make_user, no_sleep,
                                                           monkeypatch):
    from conftest import new_client
    monkeypatch.setattr(models, "CLIENT_MAX_FAILURES", 5, raising=False)
    make_user("alice")
    client = new_client(wsgi, "203.0.113.5")
    for attempt in range(5):
        log_in(client, f"user{attempt}", "nope nope",
               headers={"X-Forwarded-For": f"10.0.0.{attempt}"})
    assert log_in(client, headers={"X-Forwarded-For": "10.9.9.9"}).status_int == 429


# --- Password reset by email --------------------------------------------------------------

def mails(settings):
    """The messages the file backend wrote, oldest first (once the background has sent them)."""
    import email
    import email.policy
    storefront.background_done()
    folder = settings.data_dir + "/mail"
    if not os.path.isdir(folder):
        return []
    return [email.message_from_bytes(open(os.path.join(folder, name), "rb").read(),
                                     policy=email.policy.default)
            for name in sorted(os.listdir(folder))]


def ask_for_reset(client, address, **submit):
    form = client.get("/accounts/password/reset").forms["password-reset-form"]
    form["email"] = address
    return form.submit(**submit)


def reset_link(message):
    return re.search(r"http://\S+", message.get_content()).group(0)


def test_the_login_page_offers_a_reset(client):
    page = client.get("/accounts/login")
    assert page.click("Forgot your password?").forms["password-reset-form"]


def test_asking_for_a_reset_answers_the_same_for_any_address(client, settings, make_user):
    """Attack (enumeration): the answer must not tell whether an account has the address."""
    make_user("alice")
    answers = []
    for address in ["alice@example.com", "nobody@example.com"]:
        response = ask_for_reset(client, address)
        assert response.status_int == 303 and response.headers["Location"].endswith(
            "/accounts/login")
        answers.append(response.follow().text.replace(address, ""))
    assert answers[0] == answers[1]
    assert "If an account has this address, a link" in answers[0]
    assert [m["To"] for m in mails(settings)] == ["alice@example.com"]


MAIL_TIME = 0.05       # seconds: a slow disk, or a mail server's usual pace
ROUNDS = 15


def test_asking_for_a_reset_takes_as_long_for_any_address(client, make_user, monkeypatch):
    """Attack (enumeration by timing): the answer came later when an account had the address
    (5.9 against 2.5 ms; 28.7 against 10.0 with SMTP): the mail was made before it. Here a mail
    takes MAIL_TIME to write; the medians of the answers may not differ by half of that."""
    import statistics
    make_user("alice")
    monkeypatch.setattr(models, "RESET_MAILS_PER_HOUR", ROUNDS, raising=False)  # each mails
    write = storefront._write_mail_file
    monkeypatch.setattr(storefront, "_write_mail_file",
                        lambda message: (time.sleep(MAIL_TIME), write(message)))
    csrf, times = csrf_of(client), {"alice@example.com": [], "nobody@example.com": []}
    for _ in range(ROUNDS):
        for address, taken in times.items():
            start = time.perf_counter()
            client.post("/accounts/password/reset", {"csrf_token": csrf, "email": address},
                        status=303)
            taken.append(time.perf_counter() - start)
            storefront.background_done()       # the next answer does not share its time
    medians = {address: round(statistics.median(taken) * 1000, 1)
               for address, taken in times.items()}
    assert abs(medians["alice@example.com"] - medians["nobody@example.com"]) \
        < MAIL_TIME * 1000 / 2, f"expected the same time with or without an account (ms): {medians}"


def test_reset_mails_to_one_address_are_bounded(client, settings, make_user):
    """Attack (mail bombing): the form mailed the address once for every request."""
    make_user("alice")
    for _ in range(models.RESET_MAILS_PER_HOUR + 2):
        assert ask_for_reset(client, "ALICE@example.com").status_int == 303   # the same answer
    sent = len(mails(settings))
    assert sent == models.RESET_MAILS_PER_HOUR, \
        f"expected {models.RESET_MAILS_PER_HOUR} mails in an hour, {sent} went"
    an_hour_ago = models.utcnow() - models.RESET_MAIL_WINDOW
    models.ResetMail.update(sent_at=an_hour_ago).execute()
    ask_for_reset(client, "alice@example.com")                  # an hour later: one more
    assert len(mails(settings)) == sent + 1


def test_a_reset_link_sets_a_new_password_once_and_ends_every_session(wsgi, client, settings,
                                                                      make_user, capsys):
    from conftest import new_client
    make_user("alice")
    intruder = new_client(wsgi)
    assert log_in(intruder).status_int == 303
    ask_for_reset(client, "ALICE@example.com")                 # any case
    message, = mails(settings)
    assert message["Subject"] == "Set a new password for Storefront"
    link = reset_link(message)
    assert link in capsys.readouterr().out                     # shown on the console too
    assert re.fullmatch(r"http://localhost:80/accounts/password/reset/\d+/[0-9a-f]+-[0-9a-f]+",
                        link)
    moved = client.get(link, status=303)                       # the token leaves the address
    assert moved.headers["Location"].endswith("/set-password")
    page = moved.follow()
    assert "For the account <strong>alice</strong>" in page.text
    form = page.forms["set-password-form"]
    form["password"] = form["confirm"] = "password1"
    assert "one of the most common" in form.submit(status=400).text
    form = client.get(moved.headers["Location"]).forms["set-password-form"]
    form["password"] = form["confirm"] = "rabbit hole 1865"
    done = form.submit(status=303)
    assert done.headers["Location"].endswith("/accounts/login")
    assert "Your new password is set" in done.follow().text
    intruder.get("/accounts/", status=303)                     # every session ended
    assert models.authenticate("alice", PASSWORD) is None
    assert models.authenticate("alice", "rabbit hole 1865") is not None
    again = client.get(link, status=404)                       # the link works once
    assert "This link does not work" in again.text
    assert "set-password-form" not in client.get(moved.headers["Location"], status=404).text


def test_a_reset_link_dies_when_its_user_logs_in(client, settings, make_user):
    make_user("alice")
    ask_for_reset(client, "alice@example.com")
    link = reset_link(mails(settings)[0])       # made (in the background) before the login
    assert log_in(client).status_int == 303
    client.get(link, status=404)


def test_a_reset_link_expires(client, make_user, wsgi):
    import app as storefront
    alice = make_user("alice")
    now = time.time()
    fresh = models.make_reset_token(alice, storefront.settings.secret(), now - 3 * 86400 + 60)
    stale = models.make_reset_token(alice, storefront.settings.secret(), now - 3 * 86400 - 60)
    client.get(f"/accounts/password/reset/{alice.id}/{fresh}", status=303)
    client.get(f"/accounts/password/reset/{alice.id}/{stale}", status=404)


@pytest.mark.filterwarnings("ignore:http.cookiejar bug")     # WebTest's, on a non-ASCII path
@pytest.mark.parametrize("tamper", ["other user", "other time", "garbage", "no session",
                                    "not ascii", "huge time"])
def test_a_forged_reset_link_sets_nothing(client, settings, make_user, tamper):
    alice, bob = make_user("alice"), make_user("bob")
    ask_for_reset(client, "alice@example.com")
    link = reset_link(mails(settings)[0])
    uid, token = link.split("/")[-2:]
    stamp, mac = token.split("-")
    path = {"other user": f"/accounts/password/reset/{bob.id}/{token}",
            "other time": f"/accounts/password/reset/{uid}/{int(stamp, 16) + 1:x}-{mac}",
            "garbage": f"/accounts/password/reset/{uid}/zz-{mac}",
            "not ascii": f"/accounts/password/reset/{uid}/{stamp}-%C3%A9{mac[1:]}",
            "huge time": f"/accounts/password/reset/{uid}/{'f' * 5000}-{mac}",
            "no session": f"/accounts/password/reset/{uid}/set-password"}[tamper]
    assert "This link does not work" in client.get(path, status=404).text
    client.post(f"/accounts/password/reset/{bob.id}/set-password",
                {"csrf_token": csrf_of(client), "password": "x y z 123 4",
                 "confirm": "x y z 123 4"}, status=404)
    assert models.authenticate("bob", PASSWORD) is not None


def test_no_link_for_inactive_accounts_or_unusable_passwords(client, settings, make_user):
    make_user("ghost", email="same@example.com", is_active=False)
    User.create(username="nopass", email="same@example.com")      # made in the admin, no password
    make_user("alice", email="same@example.com")
    ask_for_reset(client, "same@example.com")
    assert [reset_link(m).split("/")[-2] for m in mails(settings)] == \
        [str(User.get(User.username == "alice").id)]


def test_a_reset_form_with_a_bad_address_is_redisplayed(client, settings):
    response = ask_for_reset(client, "not an address", status=400)
    assert "Enter a valid email address." in response.text and 'value="not an address"' in \
        response.text
    assert mails(settings) == []


def test_mail_goes_through_smtp_with_starttls_when_asked(settings, wsgi, monkeypatch):
    import threading
    import app as storefront
    sent, done = [], threading.Event()

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            sent.append(("connect", host, port))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            done.set()

        def starttls(self, context):
            sent.append(("starttls", context.verify_mode.name))

        def login(self, user, password):
            sent.append(("login", user, password))

        def send_message(self, message):
            sent.append(("send", message["To"], message["From"], message["Subject"]))

    monkeypatch.setattr("smtplib.SMTP", FakeSMTP)
    settings.email_url = "smtp://shop%40example.com:p%40ss@mail.example.com:587" \
                         "?starttls=1&from=shop@example.com"
    storefront.send_mail("alice@example.com", "Hello", "Body")
    assert done.wait(5)
    assert sent == [("connect", "mail.example.com", 587), ("starttls", "CERT_REQUIRED"),
                    ("login", "shop@example.com", "p@ss"),
                    ("send", "alice@example.com", "shop@example.com", "Hello")]
    assert mails(settings) == []


def test_the_account_page_shows_and_edits_the_delivery_profile(client, login_as):
    user = login_as("ada", first_name="Ada", last_name="Byron")
    form = client.get("/accounts/").forms["profile-form"]
    assert form["first_name"].value == "Ada"          # filled from the account at first
    form["last_name"], form["email"] = "Lovelace", "ada@example.com"
    form["street"], form["city"], form["zip"] = "12 St James's Square", "London", "SW1"
    page = form.submit(status=303).follow()
    assert "Your delivery details have been saved." in page.text
    customer = models.customer_for(user)
    assert (customer.first_name, customer.last_name, customer.email) == \
        ("Ada", "Lovelace", "ada@example.com")
    assert customer.addresses.get().city == "London"
    form = page.forms["profile-form"]
    assert form["street"].value == "12 St James's Square"
    form["city"] = ""
    response = form.submit(status=400)
    assert "This field is required." in response.text
    assert response.forms["profile-form"]["street"].value == "12 St James's Square"   # kept
    assert models.customer_for(user).addresses.get().city == "London"               # unchanged


def test_a_session_left_idle_too_long_ends(client, login_as, settings, monkeypatch):
    import time as clock
    login_as("alice")
    assert client.get("/accounts/").status_int == 200
    now = clock.time()
    monkeypatch.setattr(clock, "time", lambda: now + settings.session_timeout + 60)
    response = client.get("/accounts/")
    assert response.status_int == 303 and "/accounts/login" in response.headers["Location"]


def test_a_session_is_not_written_on_every_request(client, login_as, settings):
    """Beaker would save each session on each request to note the time; a file write per
    page costs more than the page. The shop notes it at most every few minutes."""
    import glob
    import os
    login_as("alice")
    client.get("/accounts/")
    files = glob.glob(os.path.join(settings.data_dir, "sessions", "**", "*.cache"), recursive=True)
    if not files:
        pytest.skip("sessions are not kept in files in this run")
    before = {path: os.stat(path).st_mtime_ns for path in files}
    for _ in range(3):
        client.get("/products")
        client.get("/accounts/")
    assert {path: os.stat(path).st_mtime_ns for path in files} == before
