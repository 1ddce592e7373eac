"""Things done to one account at once: what one request writes, another must not undo.

A login and a password change each spend a while on the password's hash (it is slow on
purpose). Here the hasher holds the requests under test until every one of them is inside it,
released together through a barrier, and until the test has made its change: so the worst
interleaving happens every time, on SQLite and on PostgreSQL alike.
"""
import threading

import pytest

import models
from conftest import PASSWORD, new_client
from models import User
from test_accounts import ask_for_reset, log_in, mails, reset_link

REQUESTS = 10           # released together
WAIT = 30               # seconds: a request that waits longer than this is stuck
NEW_PASSWORD = "a new secret 42"


class Held:
    """Runs requests, each in a thread of its own, held inside make_password() until all of
    them are there, then until the test says go."""

    def __init__(self, monkeypatch, count):
        self.count, self.marked = count, threading.local()
        self.inside = threading.Barrier(count + 1, timeout=WAIT)    # the requests and the test
        self.go = threading.Event()
        original = models.make_password

        def held(*args, **kwargs):
            if getattr(self.marked, "held", False):
                self.marked.held = False        # once a request: an upgrade hashes again
                self.inside.wait()
                self.go.wait(WAIT)
            return original(*args, **kwargs)
        monkeypatch.setattr(models, "make_password", held)

    def run(self, request, meanwhile=lambda: None):
        """request(n) for n in range(count), all at once; meanwhile() once all are inside the
        hasher. Returns what each request returned."""
        results = [None] * self.count

        def one(n):
            self.marked.held = True
            results[n] = request(n)
        threads = [threading.Thread(target=one, args=(n,)) for n in range(self.count)]
        for thread in threads:
            thread.start()
        try:
            self.inside.wait()
            meanwhile()
        finally:
            self.go.set()
            for thread in threads:
                thread.join(WAIT)
        assert None not in results, f"expected {self.count} answers, got {results}"
        return results


# --- Case 1: a login in flight undoes no change made meanwhile ------------------------------

# Each change is made by a browser logged in as its actor (or one that asked for a reset link),
# while the logins are held inside the hasher: (actor, change(browser, alice, settings), the
# outcome that must hold afterwards).

def untick_staff(boss, alice, settings):
    admin_form(boss, alice, is_staff=False)


def deactivate(boss, alice, settings):
    admin_form(boss, alice, is_active=False)


def admin_form(boss, alice, **values):
    form = boss.get(f"/admin/user/{alice.id}/").forms["admin-form"]
    for name, value in values.items():
        form[name] = value
    form.submit(status=303)


def admin_sets_password(boss, alice, settings):
    form = boss.get(f"/admin/user/{alice.id}/password").forms["set-password-form"]
    form["password"] = form["confirm"] = NEW_PASSWORD
    form.submit(status=303)


def owner_changes_password(owner, alice, settings):
    form = owner.get("/accounts/password").forms["password-form"]
    form["old_password"], form["password"], form["confirm"] = PASSWORD, NEW_PASSWORD, NEW_PASSWORD
    form.submit(status=303)


def reset_link_sets_password(browser, alice, settings):
    page = browser.get(reset_link(mails(settings)[-1])).follow()
    form = page.forms["set-password-form"]
    form["password"] = form["confirm"] = NEW_PASSWORD
    form.submit(status=303)


CHANGES = {
    "an admin unticks is_staff": ("boss", untick_staff, "not staff"),
    "an admin deactivates the account": ("boss", deactivate, "deactivated"),
    "an admin sets a new password": ("boss", admin_sets_password, "new password"),
    "the owner changes the password": ("alice", owner_changes_password, "new password"),
    "a reset link sets a new password": ("reset", reset_link_sets_password, "new password"),
}


def ready_to_change(wsgi, make_user, settings, monkeypatch, actor, old_hash):
    """Alice (staff), and a browser ready to change her account as `actor`. With `old_hash`,
    the accounts were made when hashes took fewer iterations: each login upgrades Alice's."""
    today = models.PASSWORD_ITERATIONS
    if old_hash:
        monkeypatch.setattr(models, "PASSWORD_ITERATIONS", today // 10)
    alice = make_user("alice", is_staff=True)
    make_user("boss", is_staff=True, is_superuser=True)
    browser = new_client(wsgi)
    if actor == "reset":
        ask_for_reset(browser, "alice@example.com")
        mails(settings)
    else:
        assert log_in(browser, actor).status_int == 303
    monkeypatch.setattr(models, "PASSWORD_ITERATIONS", today)
    assert User.get_by_id(alice.id).password_needs_upgrade() == old_hash
    return User.get_by_id(alice.id), browser


@pytest.mark.parametrize("old_hash", [False, True], ids=["hash of today", "old hash"])
@pytest.mark.parametrize("change", CHANGES)
def test_a_login_in_flight_undoes_no_change_made_meanwhile(wsgi, make_user, settings,
                                                            monkeypatch, change, old_hash):
    """Attack: a login read the account, spent a moment on the hash, then saved the whole row
    as it had read it: an admin's unticked is_staff or is_active came back, and a password
    set meanwhile was replaced by the old one (or by its upgraded hash)."""
    actor, make_change, outcome = CHANGES[change]
    alice, browser = ready_to_change(wsgi, make_user, settings, monkeypatch, actor, old_hash)
    logins = [new_client(wsgi) for _ in range(REQUESTS)]
    answers = Held(monkeypatch, REQUESTS).run(
        lambda n: log_in(logins[n]), lambda: make_change(browser, alice, settings))
    assert [a.status_int for a in answers] == [303] * REQUESTS, "expected every login to pass"
    now = User.get_by_id(alice.id)
    if outcome == "not staff":
        assert not now.is_staff, "expected is_staff to stay unticked"
        admins = sum(login.get("/admin/", expect_errors=True).status_int == 200
                     for login in logins)
        assert admins == 0, f"expected no login to reach the admin, {admins} do"
        return
    if outcome == "deactivated":
        assert not now.is_active, "expected the account to stay deactivated"
    else:
        assert models.check_password(NEW_PASSWORD, now.password), \
            f"expected the password set while {REQUESTS} logins were checking the old one"
    still_in = sum(login.get("/accounts/", expect_errors=True).status_int == 200
                   for login in logins)
    assert still_in == 0, f"expected every login with the old password out, {still_in} are in"


# --- Case 5: a reset link works once, however often its form is posted at once --------------

def test_a_reset_link_sets_one_password_when_its_form_is_posted_at_once(wsgi, make_user,
                                                                       settings, monkeypatch):
    """Attack: a link that works once worked four times when its form was posted ten times
    at once (each request checked the link before any had set the password)."""
    make_user("alice")
    browser = new_client(wsgi)
    ask_for_reset(browser, "alice@example.com")
    page = browser.get(reset_link(mails(settings)[0])).follow()
    path, csrf = page.request.path, page.forms["set-password-form"]["csrf_token"].value
    tabs = [new_client(wsgi) for _ in range(REQUESTS)]
    for tab in tabs:            # the same browser, in as many tabs
        tab.set_cookie("storefront_session", browser.cookies["storefront_session"])

    def post(n):
        password = f"{NEW_PASSWORD} {n}"
        return tabs[n].post(path, {"csrf_token": csrf, "password": password,
                                   "confirm": password}, expect_errors=True)
    answers = Held(monkeypatch, REQUESTS).run(post)
    set_by = [n for n, answer in enumerate(answers) if answer.status_int == 303]
    assert len(set_by) == 1, f"expected one of {REQUESTS} posts to set the password, " \
                             f"{len(set_by)} did: {[a.status_int for a in answers]}"
    assert all("This link does not work" in answers[n].text
               for n in range(REQUESTS) if n not in set_by)
    works = [n for n in range(REQUESTS) if models.authenticate("alice", f"{NEW_PASSWORD} {n}")]
    assert works == set_by, f"expected the password of post {set_by} to work, not {works}"


# --- Case 7 (d): reset mails to one address are bounded, however many ask at once -----------

def test_reset_mails_to_one_address_are_bounded_when_asked_at_once(wsgi, make_user, settings):
    """Attack (mail bombing): the reset form mailed the address once for every request."""
    make_user("alice")
    browsers = [new_client(wsgi) for _ in range(REQUESTS)]
    forms = [b.get("/accounts/password/reset").forms["password-reset-form"] for b in browsers]
    start = threading.Barrier(REQUESTS, timeout=WAIT)

    def ask(n):
        forms[n]["email"] = "alice@example.com"
        start.wait()
        forms[n].submit(status=303)
    threads = [threading.Thread(target=ask, args=(n,)) for n in range(REQUESTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    sent = len(mails(settings))
    assert sent == models.RESET_MAILS_PER_HOUR, \
        f"expected {models.RESET_MAILS_PER_HOUR} mails for {REQUESTS} requests, {sent} went"


def test_the_bound_holds_for_processes_that_count_at_once(wsgi):
    """Each process of a deployment counts the mails in the database: of calls racing for the
    last places of an address, as many as there are places win."""
    start, won = threading.Barrier(REQUESTS, timeout=WAIT), []

    def reserve():
        start.wait()
        try:
            won.append(models.reserve_reset_mail("alice@example.com"))
        finally:
            models.db.close()
    threads = [threading.Thread(target=reserve) for _ in range(REQUESTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert len(won) == REQUESTS
    assert won.count(True) == models.RESET_MAILS_PER_HOUR, \
        f"expected {models.RESET_MAILS_PER_HOUR} of {REQUESTS} calls to win a place: {won}"
