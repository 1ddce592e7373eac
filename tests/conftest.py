"""Fixtures: every test gets a fresh temporary database and a WebTest client on the full stack.

    def test_something(client, shop, login_as):
        login_as("alice")                 # a user who is logged in through the login form
        page = client.get("/products")   # then drive the app through HTTP
"""
import os
import re
import sys

import pytest
from webtest import TestApp

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import app as storefront  # noqa: E402
import models  # noqa: E402

PASSWORD = "correct horse battery"


@pytest.fixture
def settings(tmp_path):
    """Settings for a test: a temporary data dir, a cheap password hasher (same code path)."""
    return storefront.Settings({
        "STOREFRONT_DATA_DIR": str(tmp_path),
        "STOREFRONT_SECRET_KEY": "test-secret-key",
        "STOREFRONT_PASSWORD_ITERATIONS": "1000",
    })


@pytest.fixture
def wsgi(settings):
    application = storefront.build(settings)
    yield application
    models.db.close()


def new_client(wsgi, address="127.0.0.1"):
    """A browser of its own (its own cookies) on the same application."""
    return TestApp(wsgi, extra_environ={"REMOTE_ADDR": address, "SERVER_PROTOCOL": "HTTP/1.1"})


@pytest.fixture
def client(wsgi):
    return new_client(wsgi)


@pytest.fixture
def shop(wsgi):
    """A small deterministic demo shop: 60 products in 10 collections, customers, orders."""
    models.seed(products=60, customers=10)


def csrf_of(client):
    """The CSRF token the client's forms carry now (read from a page with a form)."""
    page = client.get("/accounts/login")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


@pytest.fixture
def csrf(client):
    return lambda: csrf_of(client)


@pytest.fixture
def make_user(wsgi):
    def make(username="alice", password=PASSWORD, **fields):
        fields.setdefault("email", f"{username}@example.com")
        return models.User.create_user(username, password=password, **fields)
    return make


@pytest.fixture
def login_as(client, make_user):
    """Create a user (unless it exists) and log in through the login form."""
    def login(username="alice", password=PASSWORD, **fields):
        user = models.User.get_or_none(models.User.username == username) or \
            make_user(username, password, **fields)
        form = client.get("/accounts/login").forms["login-form"]
        form["username"], form["password"] = username, password
        response = form.submit()
        assert response.status_int == 303, response.text
        return user
    return login
