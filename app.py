"""Storefront: a small shop with an admin site, in one Bottle module.

Read it top to bottom; each part opens with a banner:

     1. Settings         - one object built from STOREFRONT_* environment variables
     2. Wiring           - database, connection per request, sessions, templates, url()
     3. Request helpers  - current user, guards, CSRF, flash messages, render()
     4. Store            - home, catalog, collections, product pages
     5. Cart and checkout
     6. Accounts         - register, login, logout, password change
     7. Admin site
     8. JSON API
     9. Playground       - lessons that show their own code, SQL and result
    10. Debug toolbar
    11. Errors           - one renderer for 400/403/404/405/429/500, HTML or JSON
    12. Assembly         - the root app, the middleware around it: `application`
    13. CLI              - `python app.py [runserver|migrate|seed|createsuperuser|routes|shell]`

The rules of the shop (prices, stock, orders, permissions) live in models.py; a handler here
reads input, calls a function there and renders a template from views/.
"""
import argparse
import base64
import contextlib
import getpass
import hashlib
import hmac
import inspect
import json
import math
import os
import secrets
import sys
import threading
import time
import urllib.parse
import uuid
from decimal import Decimal

import bottle
from beaker.middleware import SessionMiddleware
from bottle import HTTPError, abort, redirect, request, response, static_file
from peewee import JOIN, SQL, OperationalError, fn, prefetch
from wtforms import BooleanField, EmailField, Form, PasswordField, StringField, validators

import models
from models import (
    Collection, Customer, Order, OrderItem, Product, Promotion, User, db,
)

HERE = os.path.dirname(os.path.abspath(__file__))


###############################################################################
# 1. Settings
###############################################################################

def _flag(value):
    return str(value).strip().lower() in ("1", "true", "yes", "on")


class Settings:
    """Every setting, read from STOREFRONT_* environment variables, with laptop defaults.

    The README's settings table lists the same names. Command-line flags of `python app.py`
    and the tests change the attributes of one Settings object before the app is built.
    """

    def __init__(self, environ=os.environ):
        env = lambda name, default="": environ.get("STOREFRONT_" + name, default)
        self.data_dir = os.path.abspath(env("DATA_DIR") or os.path.join(HERE, "instance"))
        self.database_url = env("DATABASE_URL") or \
            "sqlite:///" + os.path.join(self.data_dir, "storefront.sqlite3")
        self.secret_key = env("SECRET_KEY")            # "" = generated once into the data dir
        self.debug = _flag(env("DEBUG", "0"))
        self.internal_ips = [ip.strip() for ip in env("INTERNAL_IPS", "127.0.0.1,::1").split(",")
                             if ip.strip()]
        self.session_url = env("SESSION_URL")          # "" = files in the data dir
        self.cache_url = env("CACHE_URL", "memory")
        self.secure_cookies = _flag(env("SECURE_COOKIES", "0"))
        self.session_timeout = int(env("SESSION_TIMEOUT", str(14 * 24 * 3600)))  # idle seconds
        self.password_iterations = int(env("PASSWORD_ITERATIONS", "600000"))
        self.page_size = int(env("PAGE_SIZE", "24"))

    def secret(self):
        """The secret key: the setting, or a key generated once and kept in the data dir (0600)."""
        if not self.secret_key:
            path = os.path.join(self.data_dir, "secret_key")
            os.makedirs(self.data_dir, exist_ok=True)
            if not os.path.exists(path):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(secrets.token_urlsafe(48))
            with open(path) as f:
                self.secret_key = f.read().strip()
        return self.secret_key

    def masked(self):
        """The settings as a dict for display, with secrets hidden."""
        shown = {}
        for name, value in sorted(vars(self).items()):
            if name == "secret_key" or (isinstance(value, str) and "@" in value and ":" in value):
                value = "********" if value else ""
            shown[name] = value
        return shown


settings = Settings()


###############################################################################
# 2. Wiring
###############################################################################

# Templates are found by absolute path, so the app runs from any working directory.
VIEWS = os.path.join(HERE, "views")
STATIC = os.path.join(HERE, "static")
bottle.TEMPLATE_PATH.insert(0, VIEWS)

SESSION_COOKIE = "storefront_session"
CSRF_COOKIE = "storefront_csrf"
FLASH_COOKIE = "storefront_flash"

# Each part of the site is its own Bottle app, assembled on `root` in part 12. The store and
# the cart live at the top of the URL space; the others are mounted under a prefix.
root = bottle.Bottle()
store = bottle.Bottle()
shop = bottle.Bottle()
accounts = bottle.Bottle()
admin = bottle.Bottle()
api = bottle.Bottle()
playground = bottle.Bottle()
debug = bottle.Bottle()


def open_database(s):
    """Create the data dir, bind the models to the configured database and bring it up to date."""
    os.makedirs(s.data_dir, exist_ok=True)
    models.open_database(s.database_url).query_hooks.append(_on_query)
    models.PASSWORD_ITERATIONS = s.password_iterations
    models.migrate()


def session_options(s):
    """Beaker's session settings: server-side storage, a signed cookie, an idle timeout."""
    options = {
        "session.key": SESSION_COOKIE,
        "session.secret": s.secret(),
        "session.httponly": True,
        "session.samesite": "Lax",
        "session.secure": s.secure_cookies,
        "session.timeout": s.session_timeout,
        "session.save_accessed_time": True,
        "session.data_serializer": "json",   # never unpickle what a store hands back
        "session.auto": False,
    }
    if s.session_url.startswith("redis://"):
        options.update({"session.type": "ext:redis", "session.url": s.session_url})
    elif s.session_url == "memory":
        options["session.type"] = "memory"
    else:
        options.update({"session.type": "file",
                        "session.data_dir": os.path.join(s.data_dir, "sessions")})
    return options


def purge_old_sessions(s):
    """Beaker never deletes expired session files; do it at start-up."""
    folder = os.path.join(s.data_dir, "sessions")
    cutoff = time.time() - s.session_timeout
    for dirpath, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(dirpath, name)
            with contextlib.suppress(OSError):
                if os.path.getmtime(path) < cutoff:
                    os.remove(path)


def url(route_name, **params):
    """The path of a named route; leftover keywords become the query string."""
    return root.get_url(route_name, **{k: v for k, v in params.items() if v not in (None, "")})


# Queries are collected per thread while something asks for them (a playground lesson, the
# debug toolbar). The hook costs one attribute lookup when nobody is listening.
_capture = threading.local()


def _on_query(event):
    queries = getattr(_capture, "queries", None)
    if queries is not None:
        queries.append({"sql": event.sql, "params": list(event.params or ()),
                        "ms": event.duration * 1000})


@contextlib.contextmanager
def capture_queries():
    """Collect the SQL run in this thread inside the `with` block."""
    previous = getattr(_capture, "queries", None)
    _capture.queries = queries = []
    try:
        yield queries
    finally:
        _capture.queries = previous
        if previous is not None:
            previous.extend(queries)


###############################################################################
# 3. Request helpers
###############################################################################

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def sign(value):
    mac = hmac.new(settings.secret().encode(), value.encode(), hashlib.sha256).hexdigest()
    return f"{value}.{mac}"


def unsign(signed):
    """The value of a string made by sign(), or None if it was tampered with."""
    value, _, mac = (signed or "").rpartition(".")
    if value and hmac.compare_digest(sign(value), signed):
        return value
    return None


def set_cookie(name, value):
    """A cookie for this site only, out of reach of scripts and of cross-site posts."""
    response.set_cookie(name, value, path="/", httponly=True, samesite="lax",
                        secure=settings.secure_cookies)


def session(create=False):
    """The visitor's server-side session, or None if they have none and `create` is False.

    Reading the shop must cost no session: one is created only by what needs it (a cart,
    a login). A new session takes over the CSRF token the visitor's forms already carry.
    """
    if not create and not request.get_cookie(SESSION_COOKIE):
        return None
    s = request.environ["beaker.session"]
    if s.is_new and not create:        # an expired or tampered cookie: no session
        return None
    if "csrf" not in s:
        s["csrf"] = unsign(request.get_cookie(CSRF_COOKIE)) or secrets.token_urlsafe(32)
        s.save()
    return s


def current_user():
    """The logged-in User, or None. Looked up once per request."""
    env = request.environ
    if "storefront.user" not in env:
        s = session()
        user_id = s.get("user_id") if s else None
        user = User.get_or_none((User.id == user_id) & User.is_active) if user_id else None
        env["storefront.user"] = user
    return env["storefront.user"]


def login(user):
    """Start an authenticated session under a new id, so a planted id is worth nothing."""
    s = session(create=True)
    if not s.is_new:
        s.regenerate_id()
    s["user_id"] = user.id
    s["csrf"] = secrets.token_urlsafe(32)
    s.save()
    request.environ["storefront.user"] = user
    request.environ.pop("storefront.csrf", None)


def logout():
    s = session()
    if s is not None:
        s.delete()
    request.environ["storefront.user"] = None


def csrf_token():
    """The token every form sends back: kept in the session, or in a signed cookie before one exists."""
    env = request.environ
    if "storefront.csrf" not in env:
        s = session()
        token = s["csrf"] if s else unsign(request.get_cookie(CSRF_COOKIE))
        if not token:
            token = secrets.token_urlsafe(32)
            set_cookie(CSRF_COOKIE, sign(token))
        env["storefront.csrf"] = token
    return env["storefront.csrf"]


def check_csrf():
    """One check for every unsafe request to any part of the site (installed in part 12).

    The token comes from the form field `csrf_token` or the `X-CSRF-Token` header. A JSON API
    call that carries no cookie at all speaks for nobody's browser session, so it needs none.
    """
    if request.method in SAFE_METHODS:
        return
    if request.path.startswith("/api/") and not request.cookies:
        return
    sent = request.headers.get("X-CSRF-Token") or request.forms.get("csrf_token") or ""
    s = session()
    expected = s["csrf"] if s else unsign(request.get_cookie(CSRF_COOKIE))
    if not expected or not hmac.compare_digest(sent, expected):
        abort(403, "The form's security token was missing or out of date. This protects you "
                   "from forms on other sites posting here in your name. Go back, reload the "
                   "page and try again.")


def flash(message, category="success"):
    """Queue a one-time notice for the next page. Kept in a signed cookie: no session needed."""
    messages = _read_flashes() + [[category, message]]
    data = base64.urlsafe_b64encode(json.dumps(messages).encode()).decode()
    set_cookie(FLASH_COOKIE, sign(data))
    request.environ["storefront.flashes"] = messages


def _read_flashes():
    env = request.environ
    if "storefront.flashes" not in env:
        data = unsign(request.get_cookie(FLASH_COOKIE))
        try:
            env["storefront.flashes"] = json.loads(base64.urlsafe_b64decode(data)) if data else []
        except ValueError:
            env["storefront.flashes"] = []
    return env["storefront.flashes"]


def pop_flashes():
    """The queued notices, removed so they show once."""
    messages = _read_flashes()
    if messages:
        response.delete_cookie(FLASH_COOKIE, path="/")
        request.environ["storefront.flashes"] = []
    return messages


def safe_next(target, default="/"):
    """Follow ?next= only to a path on this site: never to another host."""
    target = (target or "").strip()
    parts = urllib.parse.urlsplit(target)
    if not target.startswith("/") or target.startswith(("//", "/\\")) or parts.scheme \
            or parts.netloc or any(c in target for c in "\r\n\\"):
        return default
    return target


def login_required(handler):
    """Send a visitor who is not logged in to the login page, and back here afterwards."""
    def wrapper(*args, **kwargs):
        if current_user() is None:
            redirect(url("login", next=request.fullpath + (
                "?" + request.query_string if request.query_string else "")))
        return handler(*args, **kwargs)
    wrapper.__name__, wrapper.__doc__, wrapper.__wrapped__ = \
        handler.__name__, handler.__doc__, handler
    return wrapper


def staff_required(handler):
    """Only active staff; others get the login page or a 403."""
    @login_required
    def wrapper(*args, **kwargs):
        if not current_user().is_staff:
            abort(403, "This part of the site is for staff only.")
        return handler(*args, **kwargs)
    wrapper.__name__, wrapper.__doc__, wrapper.__wrapped__ = \
        handler.__name__, handler.__doc__, handler
    return wrapper


def require_perm(codename):
    """403 unless the current user holds `codename`, e.g. "product.change"."""
    user = current_user()
    if user is None or not user.has_perm(codename):
        abort(403, f"You do not have permission to do this ({codename}).")


def get_or_404(query, ident):
    """The row of `query` with primary key `ident`, or a 404 page."""
    model = query.model if hasattr(query, "model") else query
    row = None
    with contextlib.suppress(ValueError, TypeError):
        row = query.where(model._meta.primary_key == model._meta.primary_key.db_value(ident)).first()
    if row is None:
        abort(404, f"No {model.__name__.lower()} with id {ident}.")
    return row


def int_param(name, default=None, minimum=None):
    """An integer from the query string; a missing or malformed one gives `default`."""
    try:
        value = int(request.query.get(name, ""))
    except ValueError:
        return default
    return default if minimum is not None and value < minimum else value


class Page:
    """One page of a query: `items`, `number`, `total` (None past `count_limit`), links."""

    def __init__(self, query, number, per_page, count_limit=None):
        self.number, self.per_page = max(1, number), per_page
        self.total = self.count(query, count_limit)
        self.pages = max(1, math.ceil(self.total / per_page)) if self.total is not None else None
        # One row more than the page shows tells whether there is a next page.
        rows = list(query.limit(per_page + 1).offset((self.number - 1) * per_page))
        self.items, self.has_next = rows[:per_page], len(rows) > per_page
        self.has_previous = self.number > 1

    @staticmethod
    def count(query, limit):
        """The number of rows, or None if there are more than `limit` (a bounded count stays
        fast on a million rows, where COUNT(*) of a filtered join would not)."""
        if limit is None:
            return query.count()
        n = query.select(SQL("1")).order_by().limit(limit + 1).count()
        return None if n > limit else n

    @property
    def out_of_range(self):
        return not self.items and self.number > 1


# WTForms' Email() needs another package; this pattern is the same sanity check.
EMAIL = validators.Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="Enter a valid email address.")


def form_data():
    """The submitted form, decoded as UTF-8 (Bottle decodes Latin-1 unless asked)."""
    return request.forms.decode()


def render(template_name, status=200, **context):
    """Render views/<template_name>.tpl inside the layout, with what every page needs."""
    response.status = status
    context.setdefault("title", "")
    context.update(user=current_user(), url=url, csrf_token=csrf_token, flashes=pop_flashes,
                   request=request, settings=settings, cart_count=cart_count)
    return bottle.template(template_name, **context)


def cart_count():
    """How many items the visitor's cart holds; no session means no cart and no query."""
    cart_id = cart_id_of_visitor()
    return models.cart_item_count(cart_id) if cart_id else 0


###############################################################################
# 4. Store
###############################################################################

CATALOG_COUNT_LIMIT = 10_000


@store.get("/", name="home")
def home():
    """Featured collections and the newest products."""
    return render("store/home", collections=list(models.featured_collections()),
                  products=list(Product.catalog(sort="newest").limit(8)))


@store.get("/products", name="catalog")
def catalog():
    """The catalog: search, filter by collection, a whitelisted sort, pagination."""
    q = request.query.getunicode("q", "").strip()[:100]
    collection_id = int_param("collection", minimum=1)
    sort = request.query.get("sort", "title")
    sort = sort if sort in models.CATALOG_SORTS else "title"
    page = Page(Product.catalog(q, collection_id, sort), int_param("page", 1, minimum=1),
                settings.page_size, count_limit=CATALOG_COUNT_LIMIT)
    params = {"q": q, "collection": collection_id, "sort": sort if sort != "title" else None}
    return render("store/catalog", status=404 if page.out_of_range else 200, page=page,
                  params=params, sorts=SORT_LABELS, q=q, sort=sort,
                  collections=list(Collection.select().order_by(Collection.title)),
                  collection_id=collection_id, title="Search: " + q if q else "All products")


SORT_LABELS = {"title": "Name A-Z", "-title": "Name Z-A", "price": "Price: low to high",
               "-price": "Price: high to low", "newest": "Newest"}


@store.get("/products/<product_id>", name="product")
def product_detail(product_id, error=None, status=200, quantity="1"):
    """One product with its collection, promotions and tags (and a cart error, if any)."""
    product = get_or_404(Product.select(Product, Collection)
                         .join(Collection, on=(Product.collection == Collection.id)), product_id)
    promotions = list(Promotion.select().join(models.ProductPromotion)
                      .where(models.ProductPromotion.product == product.id))
    return render("store/product", status=status, product=product, promotions=promotions,
                  tags=list(models.tags_for(product)), title=product.title, error=error,
                  quantity=quantity)


@store.get("/collections", name="collections")
def collection_list():
    """Every collection with the number of products in it."""
    return render("store/collections", collections=list(models.collections_with_counts()),
                  title="Collections")


@store.get("/collections/<collection_id>", name="collection")
def collection_detail(collection_id):
    """One collection's products, paginated."""
    collection = get_or_404(Collection.select(), collection_id)
    page = Page(Product.catalog(collection_id=collection.id), int_param("page", 1, minimum=1),
                settings.page_size, count_limit=CATALOG_COUNT_LIMIT)
    return render("store/collection", status=404 if page.out_of_range else 200,
                  collection=collection, page=page, title=collection.title)


@store.get("/static/<path:path>", name="static")
def static(path):
    return static_file(path, root=STATIC)


###############################################################################
# 5. Cart and checkout
###############################################################################

def cart_id_of_visitor(create=False):
    """The UUID of the visitor's cart, kept in their session; made on the first add."""
    s = session(create=create)
    cart_id = s.get("cart_id") if s else None
    if cart_id is None and create:
        cart_id = s["cart_id"] = str(uuid.uuid4())
        s.save()
    return cart_id


def render_cart(errors=None, status=200):
    cart_id = cart_id_of_visitor()
    lines = list(models.cart_lines(cart_id)) if cart_id else []
    return render("cart/cart", status=status, lines=lines, total=models.cart_total(lines),
                  errors=errors or {}, title="Your cart")


@shop.get("/cart", name="cart")
def cart():
    """The cart: lines, unit prices, line totals and the total."""
    return render_cart()


@shop.post("/cart/items", name="cart_add")
def cart_add():
    """Add a product to the cart; a bad quantity re-shows the product page with the reason."""
    data = form_data()
    product_id = data.get("product_id", "")
    try:
        product = models.add_to_cart(cart_id_of_visitor(create=True), product_id,
                                     data.get("quantity", "1"))
    except models.ValidationError as error:
        if "product_id" in error.errors:
            abort(404, error.errors["product_id"])
        return product_detail(product_id, error=error.errors["quantity"], status=400,
                              quantity=data.get("quantity", ""))
    flash(f"Added {product.title} to your cart.")
    redirect(safe_next(data.get("next"), url("cart")))


@shop.post("/cart/items/<product_id:int>", name="cart_update")
def cart_update(product_id):
    """Set a line's quantity (0 removes it)."""
    cart_id = cart_id_of_visitor()
    if cart_id is None:
        abort(404, "You have no cart yet.")
    try:
        product = models.set_cart_quantity(cart_id, product_id, form_data().get("quantity", ""))
    except models.ValidationError as error:
        if "product_id" in error.errors:
            abort(404, error.errors["product_id"])
        return render_cart({product_id: error.errors["quantity"]}, status=400)
    flash(f"Updated {product.title}." if form_data().get("quantity", "").strip() != "0"
          else f"Removed {product.title} from your cart.")
    redirect(url("cart"))


class CheckoutForm(Form):
    first_name = StringField("First name", [validators.InputRequired(), validators.Length(max=255)])
    last_name = StringField("Last name", [validators.InputRequired(), validators.Length(max=255)])
    email = EmailField("Email", [validators.InputRequired(), EMAIL,
                                 validators.Length(max=254)])
    street = StringField("Street and number", [validators.InputRequired(),
                                               validators.Length(max=255)])
    city = StringField("City", [validators.InputRequired(), validators.Length(max=255)])
    zip = StringField("Postal code", [validators.Optional(), validators.Length(max=20)])


def checkout_form(customer):
    """The address form, filled from the customer profile or, the first time, the account."""
    if request.method == "POST":
        return CheckoutForm(form_data())
    user = current_user()
    address = customer.addresses.first() if customer else None
    return CheckoutForm(first_name=customer.first_name if customer else user.first_name,
                        last_name=customer.last_name if customer else user.last_name,
                        email=customer.email if customer else user.email,
                        street=address.street if address else "",
                        city=address.city if address else "", zip=address.zip if address else "")


@shop.route("/checkout", ["GET", "POST"], name="checkout")
@login_required
def checkout():
    """Review the cart and the address (GET); place the order (POST)."""
    user, cart_id = current_user(), cart_id_of_visitor()
    customer = models.customer_for(user)
    form = checkout_form(customer)
    lines = list(models.cart_lines(cart_id)) if cart_id else []
    if request.method == "POST":
        if not lines:
            flash("Your cart is empty; nothing was ordered.", "info")
            redirect(url("orders"))
        if form.validate():
            try:
                customer = models.save_customer_profile(
                    user, form.first_name.data, form.last_name.data, form.email.data,
                    form.street.data, form.city.data, form.zip.data)
                order = models.place_order(cart_id, customer)
            except models.OutOfStock as error:
                return render_cart(error.errors, status=409)
            except models.ValidationError as error:
                for name, message in error.errors.items():
                    getattr(form, name, form.email).errors = [message]
            else:
                flash(f"Thank you! Order #{order.id} has been placed.")
                redirect(url("order", order_id=order.id))
    elif not lines:
        flash("Your cart is empty.", "info")
        redirect(url("cart"))
    return render("cart/checkout", status=400 if form.errors else 200, form=form, lines=lines,
                  total=models.cart_total(lines), title="Checkout")


@shop.get("/orders", name="orders")
@login_required
def order_list():
    """The logged-in customer's orders, newest first."""
    customer = models.customer_for(current_user())
    orders = list(models.orders_of(customer)) if customer else []
    return render("cart/orders", orders=orders, title="Your orders")


@shop.get("/orders/<order_id>", name="order")
@login_required
def order_detail(order_id):
    """One of the customer's orders; someone else's is a 404, not a 403 (it reveals nothing)."""
    customer = models.customer_for(current_user())
    order = get_or_404(Order.select().where(Order.customer == customer), order_id)
    items = list(OrderItem.select(OrderItem, Product).join(Product)
                 .where(OrderItem.order == order).order_by(OrderItem.id))
    return render("cart/order", order=order, items=items, title=f"Order #{order.id}",
                  total=sum((i.line_total for i in items), Decimal("0.00")))


###############################################################################
# 6. Accounts
###############################################################################

class RegisterForm(Form):
    username = StringField("Username", [validators.InputRequired(), validators.Length(max=150),
                                        validators.Regexp(r"^[\w.@+-]+$", message=
                                        "Use letters, digits and @ . + - _ only.")])
    email = EmailField("Email", [validators.InputRequired(), EMAIL,
                                 validators.Length(max=254)])
    password = PasswordField("Password", [validators.InputRequired()])
    confirm = PasswordField("Password again", [validators.InputRequired(),
                                               validators.EqualTo("password",
                                                                  "The passwords differ.")])

    def validate_username(self, field):
        if User.select().where(fn.LOWER(User.username) == field.data.lower()).exists():
            raise validators.ValidationError("This username is taken.")

    def validate_password(self, field):
        problems = models.password_problems(field.data, self.username.data or "")
        if problems:
            raise validators.ValidationError(" ".join(problems))


class LoginForm(Form):
    username = StringField("Username", [validators.InputRequired(), validators.Length(max=150)])
    password = PasswordField("Password", [validators.InputRequired(), validators.Length(max=1024)])


class PasswordChangeForm(Form):
    old_password = PasswordField("Current password", [validators.InputRequired()])
    password = PasswordField("New password", [validators.InputRequired()])
    confirm = PasswordField("New password again", [validators.InputRequired(),
                                                   validators.EqualTo("password",
                                                                      "The passwords differ.")])

    def validate_password(self, field):
        problems = models.password_problems(field.data, current_user().username)
        if problems:
            raise validators.ValidationError(" ".join(problems))


@accounts.route("/register", ["GET", "POST"], name="register")
def register():
    """Create an account and log it in."""
    form = RegisterForm(form_data()) if request.method == "POST" else RegisterForm()
    if request.method == "POST" and form.validate():
        user = User.create_user(form.username.data, form.email.data, form.password.data)
        login(user)
        flash(f"Welcome, {user.username}! Your account is ready.")
        redirect(url("account"))
    return render("accounts/register", status=400 if form.errors else 200, form=form,
                  title="Create an account")


def _throttle_keys(username):
    # REMOTE_ADDR, not request.remote_addr: a client can claim any X-Forwarded-For.
    return [f"user:{username.casefold()[:150]}", f"ip:{request.environ.get('REMOTE_ADDR')}"]


@accounts.route("/login", ["GET", "POST"], name="login")
def login_view():
    """Log in; repeated failures are slowed, then refused for a while."""
    next_url = safe_next(request.query.getunicode("next") or form_data().get("next"))
    form = LoginForm(form_data()) if request.method == "POST" else LoginForm()
    error = None
    if request.method == "POST" and form.validate():
        keys = _throttle_keys(form.username.data)
        failures = models.recent_login_failures(keys)
        if failures >= models.LOGIN_MAX_FAILURES:
            raise HTTPError(429, "Too many failed logins. Wait 15 minutes and try again.",
                            headers={"Retry-After": str(int(models.LOGIN_LOCKOUT.total_seconds()))})
        if failures >= models.LOGIN_SLOWDOWN_AFTER:
            time.sleep(min(2.0, 0.5 * (failures - models.LOGIN_SLOWDOWN_AFTER + 1)))
        user = models.authenticate(form.username.data, form.password.data)
        if user is not None:
            models.clear_login_failures(keys[:1])
            login(user)
            flash(f"Welcome back, {user.username}.")
            redirect(next_url)
        models.record_login_failure(keys)
        error = "That username and password do not match an active account."
    return render("accounts/login", status=400 if request.method == "POST" else 200, form=form,
                  error=error, next_url=next_url, title="Log in")


@accounts.post("/logout", name="logout")
def logout_view():
    """Log out (POST only, so a link or an image on another site cannot do it)."""
    logout()
    flash("You have been logged out.")
    redirect(url("home"))


@accounts.route("/password", ["GET", "POST"], name="password_change")
@login_required
def password_change():
    """Change the password; the old one is asked for first."""
    user = current_user()
    form = PasswordChangeForm(form_data()) if request.method == "POST" else PasswordChangeForm()
    if request.method == "POST" and form.validate():
        if user.check_password(form.old_password.data):
            user.set_password(form.password.data)
            user.save()
            login(user)    # a new session id: other copies of the old one are now worthless
            flash("Your password has been changed.")
            redirect(url("account"))
        form.old_password.errors.append("This is not your current password.")
    return render("accounts/password", status=400 if request.method == "POST" else 200,
                  form=form, title="Change password")


@accounts.get("/", name="account")
@login_required
def account():
    """The logged-in user's details."""
    return render("accounts/account", account=current_user(), title="Your account")


###############################################################################
# 7. Admin site
###############################################################################


###############################################################################
# 8. JSON API
###############################################################################


###############################################################################
# 9. Playground
###############################################################################

# A lesson is a handler that returns a result; the lesson page shows the handler's source,
# the SQL it ran and that result. Lessons register themselves in this ordered table.
LESSONS = []


def lesson(path, title, summary):
    """Register a lesson at /playground/<path>."""
    def register(handler):
        LESSONS.append({"path": path, "title": title, "summary": summary,
                        "name": "lesson_" + handler.__name__})

        @playground.get("/" + path, name="lesson_" + handler.__name__)
        def page():
            with capture_queries() as queries:
                result = handler()
            return render("playground/lesson", title=title, summary=summary, result=result,
                          code=inspect.getsource(handler), queries=queries, lessons=LESSONS)
        return handler
    return register


@playground.get("/", name="playground")
def lesson_index():
    """The list of lessons."""
    return render("playground/index", lessons=LESSONS, title="Playground")


@playground.get("/hello", name="hello")
def say_hello():
    """The first view: a function that renders a template with one variable."""
    return render("playground/hello", name="World", title="Hello",
                  code=inspect.getsource(say_hello))


@playground.get("/urls/<name>/<number:int>", name="url_demo")
def url_demo(name, number):
    """URL parameters arrive as arguments; <number:int> only matches digits (else 404)."""
    return render("playground/urls", name=name, number=number, routes=list_routes(),
                  code=inspect.getsource(url_demo), title="URL mapping")


@lesson("templates", "Templates", "Loops, conditions, and escaping of what users typed.")
def templates_lesson():
    products = list(Product.select().order_by(Product.id).limit(3))
    hostile = '<script>alert("hi")</script>'
    return {
        "a loop": bottle.template("% for p in products:\n- {{p.title}}\n% end\n",
                                  products=products),
        "escaped with {{ }}": bottle.template("{{text}}", text=hostile),
        "a condition": bottle.template("% if n > 2:\nmany\n% else:\nfew\n% end", n=len(products)),
    }


@lesson("orm-filtering", "Filtering", "where() with comparisons, the way Django's filter() works.")
def filtering_lesson():
    cheap_in_stock = (Product.select()
                      .where((Product.unit_price < 10) & (Product.inventory > 0))
                      .order_by(Product.unit_price).limit(5))
    return [{"title": p.title, "price": p.unit_price, "inventory": p.inventory}
            for p in cheap_in_stock]


@lesson("orm-complex-lookups", "Complex lookups", "OR with |, NOT with ~, IN and LIKE.")
def complex_lookups_lesson():
    query = (Product.select()
             .where(((Product.inventory < 10) | (Product.unit_price > 150))
                    & ~(Product.title ** "%coffee%")
                    & Product.collection.in_([1, 2, 3]))
             .order_by(Product.id).limit(5))
    return [{"title": p.title, "inventory": p.inventory, "price": p.unit_price} for p in query]


@lesson("orm-field-references", "Field references",
        "Compare two columns of the same row in SQL (Django's F objects).")
def field_references_lesson():
    query = (Product.select().where(Product.inventory > Product.unit_price)
             .order_by(Product.id).limit(5))
    return [{"title": p.title, "inventory": p.inventory, "price": p.unit_price} for p in query]


@lesson("orm-aggregates", "Aggregates", "COUNT, MIN, MAX and AVG computed by the database.")
def aggregates_lesson():
    row = Product.select(fn.COUNT(Product.id).alias("count"),
                         fn.MIN(Product.unit_price).alias("cheapest"),
                         fn.MAX(Product.unit_price).alias("dearest"),
                         fn.AVG(Product.unit_price).alias("average")).dicts().get()
    return row


@lesson("orm-annotations", "Annotations", "Add a computed column to every row with GROUP BY.")
def annotations_lesson():
    query = (Customer.select(Customer.first_name, Customer.last_name,
                             fn.COUNT(Order.id).alias("orders"))
             .join(Order, JOIN.LEFT_OUTER).group_by(Customer.id)
             .order_by(fn.COUNT(Order.id).desc(), Customer.id).limit(5))
    return list(query.dicts())


@lesson("orm-joins-vs-prefetch", "Joins versus prefetch",
        "The N+1 problem, and the two ways to load related rows in a fixed number of queries.")
def joins_lesson():
    orders = Order.select().order_by(Order.id).limit(5)
    with capture_queries() as naive:
        names = [order.customer.first_name for order in orders]          # 1 + 5 queries
    with capture_queries() as joined:
        rows = Order.select(Order, Customer).join(Customer).order_by(Order.id).limit(5)
        names = [order.customer.first_name for order in rows]            # 1 query
    with capture_queries() as prefetched:
        rows = prefetch(Order.select().order_by(Order.id).limit(5), OrderItem)
        counts = [len(order.items) for order in rows]                    # 2 queries
    return {"names": names, "items per order": counts, "queries, naive loop": len(naive),
            "queries, join": len(joined), "queries, prefetch": len(prefetched)}


@lesson("orm-raw-sql", "Raw SQL", "When you need SQL by hand: always with parameters.")
def raw_sql_lesson():
    query = Product.raw("SELECT id, title, unit_price FROM product "
                        "WHERE unit_price > ? ORDER BY unit_price DESC LIMIT 3", 100)
    if not models.is_sqlite():
        query = Product.raw(query.sql.replace("?", "%s"), *query.params)
    return [{"id": p.id, "title": p.title, "price": p.unit_price} for p in query]


@lesson("orm-transactions", "Transactions",
        "Several writes that succeed or fail together; this one is rolled back on purpose.")
def transactions_lesson():
    before = Order.select().count()
    with db.atomic() as transaction:
        order = Order.create(customer=Customer.select().first())
        OrderItem.create(order=order, product=Product.select().first(), quantity=1,
                         unit_price=10)
        inside = Order.select().count()
        transaction.rollback()          # undo both inserts: the demo data stays as it was
    return {"orders before": before, "orders inside the transaction": inside,
            "orders after the rollback": Order.select().count()}


###############################################################################
# 10. Debug toolbar
###############################################################################


###############################################################################
# 11. Errors
###############################################################################

ERROR_TITLES = {400: "Bad request", 403: "Forbidden", 404: "Page not found",
                405: "Method not allowed", 413: "Request too large",
                429: "Too many requests", 500: "Server error"}


def render_error(error):
    """The one error page: JSON under /api/, else HTML in the site's layout."""
    status = error.status_code
    message = error.body if isinstance(error.body, str) and error.body and status != 500 \
        else {404: "There is nothing at this address.",
              405: f"This address does not accept {request.method} requests.",
              500: "Something went wrong on our side. It has been logged."}.get(status, "")
    if request.path.startswith("/api/"):
        response.content_type = "application/json"
        return json.dumps({"error": ERROR_TITLES.get(status, "Error"), "message": message,
                           "status": status})
    try:
        return render("errors/error", status=status, code=status, message=message,
                      title=ERROR_TITLES.get(status, "Error"))
    except Exception:   # the page itself failed (the database is down?): plain text
        response.content_type = "text/plain; charset=utf-8"
        return f"{status} {ERROR_TITLES.get(status, 'Error')}\n{message}\n"


for _code in ERROR_TITLES:
    root.error(_code)(render_error)


###############################################################################
# 12. Assembly
###############################################################################

# Bottle 0.13 copies a mounted app's routes into the root: request hooks and error pages live
# on the root, where they run for every part of the site.
root.merge(store)
root.merge(shop)
root.mount("/accounts/", accounts)
root.mount("/admin/", admin)
root.mount("/api/", api)
root.mount("/playground/", playground)
root.mount("/__debug__/", debug)
root.add_hook("before_request", check_csrf)

SECURITY_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                "script-src 'self'; frame-ancestors 'none'; form-action 'self'; "
                                "base-uri 'self'; object-src 'none'"),
]


def with_security_headers(app):
    """Add the security headers to every response, errors and static files included."""
    def wsgi(environ, start_response):
        def start(status, headers, exc_info=None):
            names = {name.lower() for name, _ in headers}
            headers.extend(h for h in SECURITY_HEADERS if h[0].lower() not in names)
            return start_response(status, headers, exc_info)
        return app(environ, start)
    return wsgi


def closing_database(app):
    """Close the request's database connection, if it opened one, when the request ends."""
    def wsgi(environ, start_response):
        try:
            return app(environ, start_response)
        finally:
            if not db.is_closed():
                db.close()
    return wsgi


def build(s=settings):
    """Open the database and wrap the root app in its middleware: the WSGI application."""
    global settings
    settings = s
    open_database(s)
    return with_security_headers(SessionMiddleware(closing_database(root), session_options(s)))


class _Application:
    """The WSGI callable for waitress-serve and gunicorn. Importing app.py does nothing: the
    database is opened and migrated by the first request (or by `python app.py`)."""

    def __init__(self):
        self._app, self._lock = None, threading.Lock()

    def __call__(self, environ, start_response):
        if self._app is None:
            with self._lock:
                if self._app is None:
                    self._app = build(settings)
        return self._app(environ, start_response)


application = _Application()


###############################################################################
# 13. CLI
###############################################################################

def list_routes():
    """Every route: method, path, handler name."""
    return [{"method": r.method, "path": r.rule, "name": r.name or "",
             "handler": getattr(r.callback, "__name__", "?")} for r in root.routes]


def parse_address(address):
    """'8000' -> ('127.0.0.1', 8000); '0.0.0.0:80' -> ('0.0.0.0', 80)."""
    host, _, port = address.rpartition(":")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise SystemExit(f"Not a port or HOST:PORT: {address!r}")
    return (host.strip("[]") or "127.0.0.1"), int(port)


def cmd_runserver(args):
    host, port = parse_address(args.address)
    if args.debug:
        settings.debug = True
    try:
        app = build(settings)
    except (OperationalError, OSError) as error:
        raise SystemExit(f"Cannot open the database {settings.database_url}: {error}. "
                         f"Is the data dir ({settings.data_dir}) writable?")
    purge_old_sessions(settings)
    if not args.no_demo and not Product.select().exists():
        print("First start: loading the demo shop ...")
        models.seed(products=args.products)
        print(demo_admin_notice())
    import waitress
    print(f"Storefront is running at http://{host if ':' not in host else f'[{host}]'}:{port}/"
          f"  (admin: /admin/, lessons: /playground/; Ctrl+C stops it)", flush=True)
    try:
        waitress.serve(app, host=host, port=port, threads=args.threads, ident="storefront",
                       _quiet=True)
    except OSError as error:
        raise SystemExit(f"Cannot listen on {host}:{port}: {error.strerror or error}. "
                         f"Is another server running there? Try: python app.py runserver "
                         f"{port + 1}")


def demo_admin_notice():
    """Create the demo admin (only ever on a fresh demo database) and say how to log in."""
    password = secrets.token_urlsafe(9)
    if User.select().where(User.username == "admin").exists():
        return ""
    User.create_user("admin", "admin@example.com", password, is_staff=True, is_superuser=True)
    return (f"Demo admin created: log in at /accounts/login as admin / {password}\n"
            f"(shown once; change it at /accounts/password, or make your own with "
            f"`python app.py createsuperuser`)")


def cmd_migrate(args):
    applied = models.migrate()
    print(f"Applied migrations {applied}." if applied else "The database is up to date.",
          f"Schema version {models.schema_version()}.")


def cmd_seed(args):
    started = time.perf_counter()
    try:
        counts = models.seed(products=args.products, reset=args.reset)
    except models.SeedRefused as refusal:
        raise SystemExit(str(refusal))
    print(f"Seeded {counts['products']:,} products, {counts['customers']:,} customers and "
          f"{counts['orders']:,} orders in {time.perf_counter() - started:.1f} s.")


def cmd_createsuperuser(args):
    username, email = args.username, args.email
    if args.no_input:
        password = os.environ.get("STOREFRONT_SUPERUSER_PASSWORD", "")
        if not (username and email and password):
            raise SystemExit("--no-input needs --username, --email and the password in "
                             "STOREFRONT_SUPERUSER_PASSWORD.")
    else:
        username = username or input("Username: ").strip()
        email = email or input("Email: ").strip()
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password (again): ") != password:
            raise SystemExit("The passwords differ.")
    problems = models.password_problems(password, username)
    if User.select().where(User.username == username).exists():
        problems.append(f"The username {username!r} is taken.")
    if problems:
        raise SystemExit(" ".join(problems))
    try:
        User.create_user(username, email, password, is_staff=True, is_superuser=True)
    except models.ValidationError as error:
        raise SystemExit(str(error))
    print(f"Superuser {username!r} created.")


def cmd_routes(args):
    for r in list_routes():
        print(f"{r['method']:7} {r['path']:45} {r['handler']}")


def cmd_shell(args):
    import code
    namespace = {"models": models, "db": db, "settings": settings, "app": root}
    namespace.update({m.__name__: m for m in models.MODELS})
    code.interact("Storefront shell: the models are imported; db is the database.",
                  local=namespace)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python app.py", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command")
    run = commands.add_parser("runserver", help="serve the shop (the default command)")
    run.add_argument("address", nargs="?", default="127.0.0.1:8000", help="PORT or HOST:PORT")
    run.add_argument("--debug", action="store_true", help="debug mode and the toolbar")
    run.add_argument("--no-demo", action="store_true", help="do not load demo data on first start")
    run.add_argument("--threads", type=int, default=8)
    run.add_argument("--products", type=int, default=1000, help="demo products on first start")
    commands.add_parser("migrate", help="apply schema migrations")
    seed = commands.add_parser("seed", help="load the demo shop")
    seed.add_argument("--products", type=int, default=1000)
    seed.add_argument("--reset", action="store_true", help="replace the shop's existing data")
    su = commands.add_parser("createsuperuser", help="create a staff user with every permission")
    su.add_argument("--username")
    su.add_argument("--email")
    su.add_argument("--no-input", action="store_true",
                    help="read the password from STOREFRONT_SUPERUSER_PASSWORD")
    commands.add_parser("routes", help="list every route")
    commands.add_parser("shell", help="a Python shell with the models loaded")
    args = parser.parse_args(argv)
    if args.command in (None, "runserver"):
        args = run.parse_args(argv[1:] if argv and argv[0] == "runserver" else argv or [])
        return cmd_runserver(args)
    if args.command != "routes":
        try:
            open_database(settings)
        except (OperationalError, OSError) as error:
            raise SystemExit(f"Cannot open the database {settings.database_url}: {error}")
    return {"migrate": cmd_migrate, "seed": cmd_seed, "createsuperuser": cmd_createsuperuser,
            "routes": cmd_routes, "shell": cmd_shell}[args.command](args)


if __name__ == "__main__":
    main(sys.argv[1:])
