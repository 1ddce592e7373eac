"""Single sign-on from a trusted proxy (issue 26): the user a proxy in
STOREFRONT_TRUSTED_PROXIES names in STOREFRONT_REMOTE_USER_HEADER is logged in, made on first
sight unless STOREFRONT_REMOTE_USER_CREATE=0; from anyone else the header is ignored."""
import pytest

import app as storefront
import models
from conftest import PASSWORD, new_client, twin
from models import User

PROXY = "10.0.0.7"


@pytest.fixture
def sso(wsgi):
    """The settings of a site behind a signing-in proxy at PROXY; a browser behind it."""
    s = storefront.settings
    s.remote_user_header, s.trusted_proxies = "X-Remote-User", storefront.parse_networks(PROXY)
    yield new_client(wsgi, PROXY)
    s.remote_user_header, s.trusted_proxies = "", []
    s.remote_user_create = s.password_login = True


def as_user(name):
    return {"X-Remote-User": name}


def logged_in_as(client, **headers):
    """The username the account page greets, or None if it sends to the login page."""
    page = client.get("/accounts/", headers=headers)
    if page.status_int == 303:
        return None
    return page.html.select_one(".account-details dd").text


def test_the_proxys_user_is_logged_in_and_made_on_first_sight(sso):
    assert logged_in_as(sso, **as_user("carol")) == "carol"
    carol = User.get(User.username == "carol")
    assert not carol.has_usable_password() and not carol.is_staff
    assert logged_in_as(sso, **as_user("carol")) == "carol"       # the same session
    assert User.select().count() == 1


def test_a_header_from_any_other_address_is_ignored(sso, wsgi):
    direct = new_client(wsgi, "10.0.0.8")       # beside the proxy, not it
    assert logged_in_as(direct, **as_user("carol")) is None
    forwarded = {"X-Forwarded-For": PROXY, **as_user("carol")}      # claiming to be it
    assert logged_in_as(direct, **forwarded) is None
    assert not User.select().exists() and not direct.cookies


def test_the_header_changing_or_going_ends_the_session(sso, make_user):
    make_user("dave")
    assert logged_in_as(sso, **as_user("carol")) == "carol"
    carols = twin(sso, PROXY)                   # carol's cookie, kept aside
    assert logged_in_as(sso, **as_user("dave")) == "dave"
    assert logged_in_as(carols) is None          # her session is over, not handed to dave
    assert logged_in_as(sso) is None            # no header: dave's session is over too
    assert logged_in_as(twin(sso, PROXY)) is None


def test_unknown_names_are_refused_when_creation_is_off(sso, make_user):
    storefront.settings.remote_user_create = False
    page = sso.get("/accounts/", headers=as_user("mallory"), status=403)
    assert "mallory" in page.text and not User.select().exists()
    make_user("Erin")
    assert logged_in_as(sso, **as_user("erin")) == "Erin"         # known: case aside, the same


def test_a_look_alike_or_inactive_name_is_not_the_account(sso, make_user):
    make_user("alice")
    sso.get("/accounts/", headers=as_user("aIice"), status=403)    # a capital i
    make_user("bob", is_active=False)
    sso.get("/accounts/", headers=as_user("bob"), status=403)
    assert User.select().count() == 2


def test_passwords_keep_working_beside_the_proxy_until_turned_off(sso, wsgi, login_as, client):
    login_as("admin", is_staff=True, is_superuser=True)   # no header: the local password
    assert logged_in_as(client) == "admin"
    other = new_client(wsgi)
    form = other.get("/accounts/login").forms["login-form"]   # shown before the change
    storefront.settings.password_login = False
    assert "turned off" in client.get("/accounts/login", status=403).text
    client.get("/accounts/register", status=403)
    form["username"], form["password"] = "admin", PASSWORD
    form.submit(status=403)
    assert logged_in_as(other) is None
    assert logged_in_as(sso, **as_user("carol")) == "carol"     # the proxy's sign-in works


def test_check_deploy_says_when_the_header_has_no_trusted_proxy():
    def problems(**environ):
        s = storefront.Settings({f"STOREFRONT_{k}": v for k, v in environ.items()})
        return [m for failed, m in storefront._unsafe_anywhere(s) if failed
                and "REMOTE_USER_HEADER" in m]
    assert problems(REMOTE_USER_HEADER="X-Remote-User")
    assert not problems(REMOTE_USER_HEADER="X-Remote-User", TRUSTED_PROXIES="127.0.0.1")
    assert not problems()
    s = storefront.Settings({"STOREFRONT_REMOTE_USER_CREATE": "0",
                             "STOREFRONT_PASSWORD_LOGIN": "0"})
    assert (s.remote_user_create, s.password_login) == (False, False)
