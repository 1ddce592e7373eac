"""Storefront: a small shop with an admin site, in one Bottle module.

Read it top to bottom; each part opens with a banner. Parts 1-9 are the whole shop; then
come the machinery that makes it safe and fast, and the tools to run it and learn from it:

     1. Settings          - one object built from STOREFRONT_* environment variables
     2. Wiring            - the apps, the database, the session and cache handles, url()
     3. How a request flows - the layers around a handler, in the order they run
     4. Request helpers   - current user, guards, flash, render(), get_or_404(), paginate(),
                            forms: only what handlers call
     5. Store             - home, catalog, collections, product pages, tags, likes
     6. Cart and checkout
     7. Accounts          - register, login, logout, password change and reset, API tokens
     8. JSON API
     9. Errors            - one renderer for every error status, HTML or JSON
    10. Security          - CSRF, trusted proxies, allowed hosts, bad text, broken cookies, headers,
                            the API's input checks, API tokens, single sign-on from a proxy
    11. Speed             - the page and fragment cache, how it learns of writes; static files
                            and photos; work done after the answer (mail, background jobs)
    12. Admin site        - the engine, its views, then the specs of the shop's models
    13. Playground        - lessons (their text lives in views/playground/) and a guided tour
    14. Debug toolbar     - and the JSON API's OpenAPI description, built from part 8
    15. Assembly          - the root mounts the parts, installs hooks and plugins: `application`
    16. CLI               - `python app.py runserver|migrate|makemigrations|seed|shell|...`

The rules of the shop (prices, stock, orders, permissions) live in models.py; a handler here
reads input, calls a function there and renders a template from views/.
"""
import argparse, ast, base64, collections, concurrent.futures, contextlib, contextvars, csv
import datetime, email.message, email.utils, errno, functools, getpass, gzip, hashlib, hmac
import http.cookies, inspect, io, ipaddress, itertools, json, logging, operator, os, re, secrets
import smtplib, socket, ssl, sys, textwrap, threading, time, traceback, types, urllib.parse, uuid
from decimal import Decimal

# Peewee and Beaker import every database and cache driver they find (psycopg, redis), used or
# not: 18 MB in each process of a shop on SQLite. So they are imported without them, and
# models.load_driver() loads one when a setting names a PostgreSQL or Redis URL.
_hidden = [name for name in ("psycopg", "psycopg2", "redis") if name not in sys.modules]
sys.modules.update(dict.fromkeys(_hidden, None))     # `import redis` fails while these stand
import bottle
from beaker.cache import CacheManager
from beaker.middleware import SessionMiddleware
from beaker.util import parse_cache_config_options
from playhouse.pool import MaxConnectionsExceeded
from bottle import HTTPError, abort, redirect, request, response, static_file
import peewee
from peewee import JOIN, SQL, Case, IntegrityError, OperationalError, fn, prefetch
import wtforms
from wtforms import EmailField, Form, PasswordField, SelectMultipleField, StringField, validators
from wtforms.fields.choices import SelectChoice
from wtfpeewee.fields import ModelSelectField, wtf_choice
from wtfpeewee.orm import FieldInfo, ModelConverter, ValueRequired, model_form

import models
from models import Collection, Customer, Order, OrderItem, Product, Promotion, User, db

for _name in _hidden:
    del sys.modules[_name]

HERE = os.path.dirname(os.path.abspath(__file__))


###############################################################################
# 1. Settings
###############################################################################

class ImproperlyConfigured(Exception):
    """A setting that cannot work. Start-up stops with its message, one line."""


class Settings:
    """Every setting, read from STOREFRONT_* environment variables (the README's table),
    with laptop defaults; flags of `python app.py` and the tests change its attributes. A
    value that cannot work is kept in `problems`: build() and `python app.py check` say it.
    The one `settings` object is made at the end of part 10, after the checks it runs."""

    def __init__(self, environ=os.environ):
        self._environ, self.problems = environ, []
        env = self.env
        self.data_dir = os.path.abspath(env("DATA_DIR") or os.path.join(HERE, "instance"))
        self.database_url = env("DATABASE_URL") or \
            "sqlite:///" + os.path.join(self.data_dir, "storefront.sqlite3")
        self.secret_key = env("SECRET_KEY")            # "" = generated once into the data dir
        self.secret_key_in_data_dir = not self.secret_key
        self.debug = _flag(env("DEBUG", "0"))
        self.internal_ips = _split(env("INTERNAL_IPS", "127.0.0.1,::1"))
        # The Host names the site answers to, and the proxies whose X-Forwarded-For and
        # X-Forwarded-Proto are believed (none by default): see part 10, Security.
        self.allowed_hosts = allowed_hosts(self, env("ALLOWED_HOSTS"))
        self.allowed_hosts_given = bool(_split(env("ALLOWED_HOSTS")))  # else runserver adds one
        self.trusted_proxies = trusted_proxies(self, env("TRUSTED_PROXIES"))
        self.email_url = email_url(self, env("EMAIL_URL"))     # "" = .eml files in <data dir>/mail
        self.order_notify = addresses(self, "ORDER_NOTIFY")     # the staff told of new orders
        self.session_url = env("SESSION_URL")          # "" = files in the data dir
        self.cache_url = env("CACHE_URL", "memory")
        self.secure_cookies = _flag(env("SECURE_COOKIES", "0"))
        day = 24 * 3600     # the sessions' timeouts: idle seconds
        self.session_timeout = whole_number(self, "SESSION_TIMEOUT", 14 * day)
        self.anonymous_session_timeout = whole_number(self, "ANONYMOUS_SESSION_TIMEOUT", day)
        self.secret_key_fallbacks = _split(env("SECRET_KEY_FALLBACKS"))   # old keys: part 10
        self.log_format = env("LOG_FORMAT", "text").strip().lower()
        if self.log_format not in ("text", "json"):
            self.problems.append(f"STOREFRONT_LOG_FORMAT: {self.log_format!r} is not text or json")
        self.password_iterations = whole_number(self, "PASSWORD_ITERATIONS", 600000)
        self.password_reset_timeout = whole_number(self, "PASSWORD_RESET_TIMEOUT", 3 * day)
        self.page_size = whole_number(self, "PAGE_SIZE", 24)
        # Single sign-on (part 10): the header a trusted proxy names the signed-in user in.
        self.remote_user_header = env("REMOTE_USER_HEADER").strip()
        self.remote_user_create = _flag(env("REMOTE_USER_CREATE", "1"))
        self.password_login = _flag(env("PASSWORD_LOGIN", "1"))

    def env(self, name, default=""):
        return self._environ.get("STOREFRONT_" + name, default)

    def secret(self):
        return secret_key(self)      # made once if not set: part 10


###############################################################################
# 2. Wiring
###############################################################################

# Templates are found by absolute path, so the app runs from any working directory.
VIEWS = os.path.join(HERE, "views")
STATIC = os.path.join(HERE, "static")
bottle.TEMPLATE_PATH.insert(0, VIEWS)

# Each part of the site is its own Bottle app, assembled on `root` in part 15 (the store and
# the cart at the top of the URL space, the others under a prefix).
root, store, shop, accounts = bottle.Bottle(), bottle.Bottle(), bottle.Bottle(), bottle.Bottle()
admin, api, playground, debug = bottle.Bottle(), bottle.Bottle(), bottle.Bottle(), bottle.Bottle()

log = logging.getLogger("storefront")
cache = None        # the page and fragment cache (part 11) once build() has run; None when off


def open_database(s):
    """Create the data dir, bind the models to the database, bring it up to date and return
    the migrations applied. (A request takes a pooled connection at its first query.)"""
    os.makedirs(s.data_dir, exist_ok=True)
    models.open_database(s.database_url).query_hooks.append(_on_query)
    models.PASSWORD_ITERATIONS = s.password_iterations
    models.PASSWORD_RESET_TIMEOUT = datetime.timedelta(seconds=s.password_reset_timeout)
    applied = models.migrate()
    if applied:
        log.info(models.describe_applied(applied))
    models.reprice_if_new_day()
    return applied


SESSION_COOKIE = "storefront_session"
FLASH_COOKIE = "storefront_flash"
FLASHES_KEPT = 5            # notices that cookie holds at most


@functools.cache
def _wildcards(route_name):
    """The names of a route's wildcards: ("label",) for /tags/<label>."""
    return tuple(name for name, _ in root.router.builder.get(route_name, ()) if name)


def url(route_name, /, **params):
    """The path of a named route; leftover keywords become the query string. (Bottle's
    root.get_url() without its urljoin() calls, which cost more than a product card; `_name`,
    the router's own argument, is never a query parameter.)"""
    params = {k: v for k, v in params.items() if v is not None and v != "" and k != "_name"}
    for name in _wildcards(route_name):         # Bottle puts a text into the path as it is:
        if isinstance(params.get(name), str):   # a tag "why?" or "c#" would break it
            params[name] = urllib.parse.quote(params[name])
    path = root.router.build(route_name, **params)
    try:
        script = request.environ.get("SCRIPT_NAME", "").strip("/")
    except RuntimeError:        # outside a request
        script = ""
    return ("/" + script if script else "") + path


###############################################################################
# 3. How a request flows
###############################################################################

# Between the server and a handler, a request passes these layers, outermost first. Part 15
# builds them (middleware() and the hooks); a test holds this table to what it builds.
#
#   log_requests            a request id, a log line a request, errors logged   part 15
#   gzip_text               compresses text for clients that accept gzip       part 15
#   with_security_headers   security headers on every answer, errors too       part 10
#   health_checks           answers /healthz and /readyz, before anything else  part 15
#   debug_toolbar           with --debug only, for internal addresses           part 14
#   session_cookies_of_old_keys  re-signs a session cookie of an old key        part 10
#   SessionMiddleware       Beaker: a session is loaded only if session() asks  part 4
#   closing_database        gives the request's database connection back       part 15
#   root                    the Bottle app: its before_request hooks, in order:
#     believe_trusted_proxies_only  who and where the client really is          part 10
#     check_host                    a Host that is not this site's: 400          part 10
#     ignore_broken_cookies                                                      part 10
#     refuse_bad_text               not UTF-8, a NUL, a file: 400                part 10
#     authenticate_token            an API call's bearer token: its user, or 401  part 10
#     check_csrf                    every POST carries its form's token          part 10
#     sign_in_from_proxy            the user a trusted proxy names is logged in  part 10
#     reprice_if_new_day            dated promotions start and end               models.py
#   the route's plugins     AnswerWhenDown: a part of the deployment that fails   part 15
#                           is a 503; PageCache, for routes declared cache=True  part 11
#   the handler             then the after_request hooks no_store_for_one_visitor (part 10)
#                           and save_session (part 15)


###############################################################################
# 4. Request helpers
###############################################################################

def session(create=False):
    """The visitor's server-side session, or None if they have none and `create` is False.
    Reading the shop must cost no session: one is created only by what needs it (a cart,
    a login), and takes over the CSRF token the visitor's forms already carry."""
    if request.environ.get("storefront.token") or \
            (not create and not request.get_cookie(SESSION_COOKIE)):
        return None     # a program that sent a token has no session, whatever its cookies
    s = request.environ["beaker.session"]
    if not sessions_answer(s, create):   # the store is down, and this page can do without
        return None
    if s.is_new and not create:        # an expired or tampered cookie: no session
        return None
    if not session_in_use(s, create):  # left idle too long (part 10)
        return None
    request.environ["storefront.private"] = True     # this response is for one visitor only
    return s


def current_user():
    """The logged-in User, or None. Looked up once per request. A session keeps a
    fingerprint of the password hash it logged in with and of the account's deactivations:
    a changed password, or a deactivation, logs it out for good."""
    env = request.environ
    if "storefront.user" not in env:
        s = session()
        user_id = s.get("user_id") if s else None
        user = models.active_user(user_id) if user_id else None
        if user is not None and not _same_session_hash(s, user):
            user = None
            del s["user_id"]
            s.pop("auth", None)
            s.save()
        env["storefront.user"] = user
    return env["storefront.user"]


def login_required(handler):
    """Send a visitor who is not logged in to the login page, and back here afterwards."""
    @functools.wraps(handler)
    def wrapper(*args, **kwargs):
        if current_user() is None:
            redirect(url("login", next=request.fullpath + (
                "?" + request.query_string if request.query_string else "")))
        return handler(*args, **kwargs)
    return wrapper


def staff_required(handler):
    """Only active staff; others get the login page or a 403."""
    @login_required
    @functools.wraps(handler)
    def wrapper(*args, **kwargs):
        if not current_user().is_staff:
            abort(403, "This part of the site is for staff only.")
        return handler(*args, **kwargs)
    return wrapper


def flash(message, category="success"):
    """Queue a one-time notice for the next page, in a signed cookie: no session needed. The
    last few are kept: a browser drops a cookie over 4 KB, and with it every notice (a
    script that never follows its redirects would pile them up)."""
    messages = (_read_flashes() + [[category, message]])[-FLASHES_KEPT:]
    set_cookie(FLASH_COOKIE, sign(base64.urlsafe_b64encode(json.dumps(messages).encode()).decode()))
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
        set_cookie(FLASH_COOKIE, "", max_age=0)
        request.environ["storefront.flashes"] = []
    return messages


# Every page loads static/css/base.css, then the stylesheet of its area, named by the folder
# of views/ its template is in (an error page needs base.css alone).
STYLESHEETS = {"store": "css/shop.css", "cart": "css/shop.css", "accounts": "css/shop.css",
               "admin": "css/admin.css", "playground": "css/playground.css", "api": "css/docs.css"}


def render(template_name, status=200, **context):
    """Render views/<template_name>.tpl inside the layout, with what every page needs."""
    response.status = status
    context.setdefault("title", "")
    context.setdefault("stylesheet", STYLESHEETS.get(template_name.partition("/")[0]))
    return partial(template_name, user=current_user(), flashes=pop_flashes,
                   cart_count=cart_count, **context)


def partial(template_name, **context):
    """Render a template with the helpers every template may use. Nothing here is about the
    visitor (render() adds that): a part of a page rendered so can be shared (fragment())."""
    record = getattr(_capture, "record", None)
    if record is not None:          # the debug toolbar is watching this request
        record.templates.append((template_name, sorted(context)))
    return bottle.template(template_name, url=url, static_url=static_url,
                           csrf_token=csrf_token, request=request,
                           settings=settings, money=format_money, date=format_date,
                           fragment=fragment, this_list=this_list, photo_url=photo_url,
                           srcset=srcset, with_photos=models.attach_photos, **context)


def format_money(value):
    """How every page writes an amount: $1,070.45."""
    return f"${models.to_money(value):,}"


def format_date(value):
    """How every page writes a date (25 Nov 2026) or a moment (25 Nov 2026, 14:03 UTC)."""
    if isinstance(value, datetime.datetime):
        return f"{value.day} {value:%b %Y, %H:%M} UTC"
    return f"{value.day} {value:%b %Y}"


def get_or_404(query, ident):
    """The row of `query` with primary key `ident`, or a 404 page."""
    model = query.model if hasattr(query, "model") else query
    key = models.parse_key(model, ident)      # "abc" or 10**30 is no id: never ask the database
    row = query.where(model._meta.primary_key == key).first() if key is not None else None
    if row is None:
        abort(404, f"No {model.__name__.lower()} with id {ident}.")
    return row


def int_param(name, default=None, minimum=None):
    """An integer from the query string; a missing or malformed one gives `default`."""
    try:
        value = int(request.query.get(name, ""))
    except ValueError:
        return default
    if abs(value) > models.MAX_INT or (minimum is not None and value < minimum):
        return default     # a number no database column could hold is as bad as "abc"
    return value


def paginate(query, per_page=None, count_limit=None, counted=None, searched=False):
    """The page of `query` that ?page= asks for (a bad number is page 1), its rows fetched when
    a template loops over them; its count (of `counted`: the same rows, fewer joins) cached."""
    remember = (lambda key, compute: cached("counts", key, compute)) if cache else None
    return models.Page(query, int_param("page", 1, minimum=1), per_page or settings.page_size,
                       count_limit, remember, counted, searched)


def this_list():
    """(route name, parameters) of the list on this page, for its page links: the query's
    parameters but ?page= (those the route `reads`, if it says), then the route's own."""
    reads = request.route.config.get("reads")
    params = {k: v for k, v in request.query.decode().items()
              if k != "page" and (reads is None or k in reads)}
    return request.route.name, dict(params, **request.url_args)


def form_data():
    """The submitted form, decoded as UTF-8 (Bottle decodes Latin-1 unless asked), as
    refuse_bad_text() (part 10) read and checked it before the handler ran."""
    return request.environ.get("storefront.form") or bottle.FormsDict()


def form_from_request(form_class, initial=None, **options):
    """A WTForms form filled from the POSTed form, or on a GET from `initial` (a dict)."""
    if request.method == "POST":
        return form_class(form_data(), **options)
    return form_class(data=initial, **options)


###############################################################################
# 5. Store
###############################################################################

# Each page reads its input, asks models.py and renders. A Peewee query runs when first looped
# over, mostly in the template: a page runs the queries its handler names (but those of a cached
# fragment, and a page served from the cache, declared with cache=True, runs none: part 11).
# `reads` names the query parameters a page reads: its page links and cache keys keep those.


@store.get("/", name="home", cache=True, reads=())
def home():
    """Featured collections and the newest products."""
    return render("store/home", collections=models.featured_collections(),
                  products=Product.catalog(sort="newest", cards=True).limit(8))


CATALOG_COUNT_LIMIT = 10_000
SEARCH_LENGTH = 100         # the characters of a search that count
SORT_LABELS = {"relevance": "Best match", "title": "Name A-Z", "-title": "Name Z-A",
               "price": "Price: low to high", "-price": "Price: high to low", "newest": "Newest"}


def catalog_params():
    """The catalog's query parameters, read and checked: (q, collection id, sort).
    The HTML catalog and the JSON API both read them here, so they agree."""
    q = request.query.getunicode("q", "").strip()[:SEARCH_LENGTH]
    collection_id = int_param("collection", minimum=1)
    sort = request.query.get("sort") or default_sort(q)
    return q, collection_id, sort if sort in models.CATALOG_SORTS else default_sort(q)


def default_sort(q):
    """Best matches first for a search, else by name."""
    return "relevance" if q else "title"


def render_products(template_name, query, **context):
    """A page of a list of products, with a 404 past its last page."""
    page = paginate(query, count_limit=CATALOG_COUNT_LIMIT)
    return render(template_name, status=404 if page.out_of_range else 200, page=page, **context)


@store.get("/products", name="catalog", cache=True, reads=("q", "collection", "sort", "page"))
def catalog():
    """The catalog: search, filter by collection, a whitelisted sort, pagination."""
    q, collection_id, sort = catalog_params()
    return render_products("store/catalog", Product.catalog(q, collection_id, sort, cards=True),
                           collections=Collection.select().order_by(Collection.title),
                           q=q, sort=sort, sorts=SORT_LABELS, collection_id=collection_id,
                           best_of=Product.RANKED_AT_MOST,
                           search_keeps={"collection": collection_id,
                                         "sort": sort if sort != default_sort(q) else None},
                           title="Search: " + q if q else "All products")


@store.get("/products/<product_id>", name="product", cache=True, reads=())
def product_detail(product_id, error=None, status=200, quantity="1"):
    """One product with its collection, promotions, tags and likes (and a cart error)."""
    product = models.product_for_page(product_id) or abort(
        404, f"No product with id {product_id}.")
    user = current_user()
    return render("store/product", status=status, product=product,
                  promotions=product.current_promotions(), tags=models.tags_for(product),
                  likes=functools.partial(models.like_count, product),
                  liked=user is not None and models.likes(user, product),
                  error=error, quantity=quantity, title=product.title,
                  description=product.description)


@store.get("/collections", name="collections", cache=True, reads=())
def collection_list():
    """Every collection with the number of products in it."""
    return render("store/collections", collections=models.collections_with_counts(),
                  title="Collections")


@store.get("/collections/<collection_id>", name="collection", cache=True, reads=("page",))
def collection_detail(collection_id):
    """One collection's products, paginated."""
    collection = get_or_404(Collection.select(), collection_id)
    return render_products("store/collection", Product.catalog(collection_id=collection.id,
                                                               cards=True),
                           collection=collection, title=collection.title,
                           description=f"{collection.title}: the products of this collection.")


@store.get("/tags/<label:path>", name="tag", cache=True, reads=("page",))  # (a label may hold a /)
def tag_detail(label):
    """The products with one tag, paginated."""
    tag = models.Tag.get_or_none(models.Tag.label == label) or abort(404, f"No tag {label!r}.")
    tagged = models.TaggedItem.targets(Product, models.TaggedItem.tag == tag)
    return render_products("store/tag", Product.catalog(cards=True).where(Product.id.in_(tagged)),
                           tag=tag, title=f"Tagged “{tag.label}”",
                           description=f"Products tagged “{tag.label}”.")


@store.post("/products/<product_id>/like", name="product_like")
@login_required
def product_like(product_id):
    """Like a product, or with liked=0 stop liking it; then back to the product."""
    product = get_or_404(Product.select(), product_id)
    liked = form_data().get("liked", "1") != "0"
    models.like(current_user(), product, liked)
    flash(f"You like {product.title}." if liked else f"You no longer like {product.title}.")
    redirect(url("product", product_id=product.id))



###############################################################################
# 6. Cart and checkout
###############################################################################

def cart_id_of_visitor(create=False):
    """The UUID of the visitor's cart, kept in their session; made on the first add. A
    logged-in shopper's cart is their account's (login() finds it again). One address makes
    only so many anonymous carts, and so sessions, in a while (models.new_cart): a script
    posting to /cart/items in a loop is answered 429, and fills no disk."""
    s = session()
    cart_id = s.get("cart_id") if s else None
    if cart_id is None and create:
        user = current_user()
        try:
            cart_id = models.cart_of(user) if user else models.new_cart(
                client_address(request.environ)).id
        except models.TooManyCarts as refusal:
            raise HTTPError(429, "This address has made too many carts: try again later.",
                            headers={"Retry-After": str(refusal.retry_after)})
        s = session(create=True)
        cart_id = s["cart_id"] = str(cart_id)
        s.save()
    return cart_id


def cart_count():
    """How many items the visitor's cart holds; no session means no cart and no query."""
    cart_id = cart_id_of_visitor()
    return models.cart_item_count(cart_id) if cart_id else 0


def render_cart(errors=None, status=200):
    cart_id = cart_id_of_visitor()
    lines = list(models.cart_lines(cart_id)) if cart_id else []
    return render("cart/cart", status=status, lines=lines, total=models.lines_total(lines),
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
        line = models.set_cart_quantity(cart_id, product_id, form_data().get("quantity", ""))
    except models.ValidationError as error:
        if "product_id" in error.errors:
            abort(404, error.errors["product_id"])
        return render_cart({product_id: error.errors["quantity"]}, status=400)
    flash(f"Updated {line.product.title}." if line.quantity
          else f"Removed {line.product.title} from your cart.")
    redirect(url("cart"))


def show_errors(form, errors):
    """Put the rules models.py found broken ({field: message}) on the form's fields."""
    for name, message in errors.items():
        field = form[name] if name in form else None
        if field is not None:
            field.errors = list(field.errors) + [message]
        else:
            form.form_errors.append(message)


# WTForms' Email() needs another package; the models' pattern is the same sanity check.
# \Z, not $: "$" also matches before a final newline, and "a@b.c\n" would be stored.
EMAIL = validators.Regexp(fr"{models.EMAIL_PATTERN}\Z", message="Enter a valid email address.")


class ProfileForm(Form):
    """Who the shop delivers to: the customer profile, asked at checkout, kept on /accounts/."""
    first_name = StringField("First name", [validators.InputRequired(), validators.Length(max=255)])
    last_name = StringField("Last name", [validators.InputRequired(), validators.Length(max=255)])
    email = EmailField("Email", [validators.InputRequired(), EMAIL,
                                 validators.Length(max=254)])
    street = StringField("Street and number", [validators.InputRequired(),
                                               validators.Length(max=255)])
    city = StringField("City", [validators.InputRequired(), validators.Length(max=255)])
    zip = StringField("Postal code", [validators.Optional(), validators.Length(max=20)])


def profile_form(customer, posted=True):
    """The profile form, filled from the customer profile or, the first time, the account;
    on a POST, from the form sent, unless `posted` is False (another form was sent)."""
    person = customer or current_user()
    address = customer.addresses.first() if customer else None
    initial = {
        "first_name": person.first_name, "last_name": person.last_name, "email": person.email,
        "street": address.street if address else "", "city": address.city if address else "",
        "zip": address.zip if address else ""}
    return form_from_request(ProfileForm, initial) if posted else ProfileForm(data=initial)


@shop.route("/checkout", ["GET", "POST"], name="checkout")
@login_required
def checkout():
    """Review the cart and the address (GET); place the order (POST)."""
    user, cart_id = current_user(), cart_id_of_visitor()
    customer = models.customer_for(user)
    form = profile_form(customer)
    lines = list(models.cart_lines(cart_id)) if cart_id else []
    if request.method == "POST":
        if not lines:
            flash("Your cart is empty; nothing was ordered.", "info")
            redirect(url("orders"))
        if form.validate():
            try:
                order = models.checkout(user, cart_id, **form.data)
            except models.OutOfStock as error:
                return render_cart(error.errors, status=409)
            except models.ValidationError as error:
                if "cart" in error.errors:     # a checkout of this cart just finished
                    flash(error.errors["cart"] + " Nothing more was ordered.", "info")
                    redirect(url("orders"))
                show_errors(form, error.errors)
            else:
                log_event("order_placed", "order %s placed by %s", order.id, user.username,
                          order_id=order.id, user_id=user.id)
                tell_of_orders([order.id], "placed")
                flash(f"Thank you! Order #{order.id} has been placed.")
                redirect(url("order", order_id=order.id))
    elif not lines:
        flash("Your cart is empty.", "info")
        redirect(url("cart"))
    return render("cart/checkout", status=400 if form.errors else 200, form=form, lines=lines,
                  total=models.lines_total(lines), title="Checkout")


@shop.get("/orders", name="orders")
@login_required
def order_list():
    """The logged-in customer's orders, newest first, a page at a time."""
    customer = models.customer_for(current_user())
    page = paginate(models.orders_of(customer)) if customer else None
    return render("cart/orders", page=page, title="Your orders")


@shop.get("/orders/<order_id>", name="order")
@login_required
def order_detail(order_id):
    """One of the customer's orders; someone else's is a 404, not a 403 (it reveals nothing)."""
    customer = models.customer_for(current_user())
    order = get_or_404(Order.select().where(Order.customer == customer), order_id)
    items = list(models.order_lines(order))
    return render("cart/order", order=order, items=items, title=f"Order #{order.id}",
                  total=models.lines_total(items))



###############################################################################
# 7. Accounts
###############################################################################

def login(user, **marks):
    """Start an authenticated session under a new id, so a planted id is worth nothing.
    `marks` are kept in it too (remote_user: the proxy's name for the user, part 10)."""
    s = session(create=True)
    if not s.is_new:
        s.regenerate_id()
    s.pop("remote_user", None)
    s.update(marks)
    s["user_id"] = user.id
    s["auth"] = user.session_hash(settings.secret())
    cart_id = models.claim_cart(user, s.pop("cart_id", None))
    if cart_id:
        s["cart_id"] = str(cart_id)
    s["csrf"] = secrets.token_urlsafe(32)
    session_lifetime(s)         # a login's, from now on
    s.save()
    request.environ["storefront.user"] = user
    request.environ.pop("storefront.csrf", None)


def password_changed(user):
    """Call after setting `user`'s password. Their other sessions are logged out on their next
    request (current_user() sees an old fingerprint); if this session is theirs, it stays
    logged in, under a new id (Django's update_session_auth_hash)."""
    me = current_user()
    if me is not None and me.id == user.id:
        login(user)


def passwords_on():
    """With STOREFRONT_PASSWORD_LOGIN=0 the proxy's sign-in (part 10) is the only way in: no
    password logs in, and no account with one is made."""
    if not settings.password_login:
        abort(403, "Logging in with a password is turned off here: your company's sign-in "
                   "logs you in.")


def logout():
    s = session()
    if s is not None:
        s.delete()
    request.environ["storefront.user"] = None


class NewPasswordForm(Form):
    """A new password, typed twice and held to the password policy of models.py."""
    password = PasswordField("New password", [validators.InputRequired()])
    confirm = PasswordField("New password again", [
        validators.InputRequired(), validators.EqualTo("password", "The passwords differ.")])

    def __init__(self, formdata=None, owner=None, **kwargs):
        super().__init__(formdata, **kwargs)
        self.owner = owner      # the User whose password it is; None for a new account

    def validate_password(self, field):
        if self.owner:
            username, email = self.owner.username, self.owner.email
        else:           # a new account: the name and address typed beside the password
            username, email = self.data.get("username") or "", self.data.get("email") or ""
        problems = models.password_problems(field.data, username, email)
        if problems:
            raise validators.ValidationError(" ".join(problems))


class RegisterForm(NewPasswordForm):
    username = StringField("Username", [validators.InputRequired()])
    email = EmailField("Email", [validators.InputRequired(), EMAIL,
                                 validators.Length(max=254)])

    def __init__(self, formdata=None, **kwargs):
        super().__init__(formdata, **kwargs)
        self.password.label.text, self.confirm.label.text = "Password", "Password again"

    def validate_username(self, field):
        problem = models.username_problem(field.data)    # the one rule for every new name
        if problem:
            raise validators.ValidationError(problem)


class LoginForm(Form):
    username = StringField("Username", [validators.InputRequired(), validators.Length(max=150)])
    password = PasswordField("Password", [validators.InputRequired(), validators.Length(max=1024)])


class PasswordChangeForm(NewPasswordForm):
    old_password = PasswordField("Current password", [validators.InputRequired()])


@accounts.route("/register", ["GET", "POST"], name="register")
def register_view():
    """Create an account and log it in."""
    passwords_on()
    form = form_from_request(RegisterForm)
    if request.method == "POST" and form.validate():
        try:
            user = User.create_user(form.username.data, form.email.data, form.password.data)
        except models.ValidationError as error:     # taken since the form checked (a double
            show_errors(form, error.errors)         # click: hashing takes a moment)
        else:
            login(user)
            flash(f"Welcome, {user.username}! Your account is ready.")
            redirect(url("account"))
    return render("accounts/register", status=400 if form.errors else 200, form=form,
                  title="Create an account")


@accounts.route("/login", ["GET", "POST"], name="login")
def login_view():
    """Log in. Failed attempts are slowed, and refused only in ways that cannot lock anyone
    out of their own account (see models.login_throttle)."""
    passwords_on()
    next_url = safe_next(request.query.getunicode("next") or form_data().get("next"))
    form = form_from_request(LoginForm)
    error = None
    if request.method == "POST" and form.validate():
        username, client = form.username.data, client_address(request.environ)
        verdict = models.login_throttle(username, client)
        if verdict.refuse_for:
            wait = verdict.refuse_for
            when = f"{(wait + 59) // 60} minutes" if wait >= 120 else \
                f"{wait} second{'s' if wait > 1 else ''}"
            raise HTTPError(429, f"{verdict.reason} Try again in {when}.",
                            headers={"Retry-After": str(wait)})
        time.sleep(verdict.delay)
        user = models.authenticate(username, form.password.data)
        if user is not None:
            log.info("login: %s from %s", user.username, client)
            models.clear_login_failures(username, client)
            login(user)
            flash(f"Welcome back, {user.username}.")
            redirect(next_url)
        log.warning("failed login for %r from %s", username[:150], client)
        models.record_login_failure(username, client)
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
    form = form_from_request(PasswordChangeForm, owner=user)
    if request.method == "POST" and form.validate():
        # Only the password is written, and only if it is still the one just checked: an
        # admin's change meanwhile is kept, and a new password set meanwhile is not replaced.
        if user.check_password(form.old_password.data) and \
                user.change_password(form.password.data, if_still=user.password):
            password_changed(user)
            flash("Your password has been changed. Your other sessions are logged out.")
            redirect(url("account"))
        form.old_password.errors.append("This is not your current password.")
    return render("accounts/password", status=400 if request.method == "POST" else 200,
                  form=form, title="Change password")


class PasswordResetForm(Form):
    email = EmailField("Email", [validators.InputRequired(), EMAIL, validators.Length(max=254)])


@accounts.route("/password/reset", ["GET", "POST"], name="password_reset")
def password_reset():
    """Ask for an email with a link to set a new password. The answer is the same whether or
    not an account has the address, and so is the time it takes: the accounts are looked up
    and mailed in the background, after the answer. So the form tells no one who is here."""
    form = form_from_request(PasswordResetForm)
    if request.method == "POST" and form.validate():
        site = absolute_url(request.script_name.rstrip("/"))
        in_background(send_password_reset_links, form.email.data, site)
        flash("If an account has this address, a link to set a new password is on its way.",
              "info")
        redirect(url("login"))
    return render("accounts/password_reset", status=400 if form.errors else 200, form=form,
                  title="Forgotten password")


def send_password_reset_links(address, site):
    """Mail a link to each active account with `address`: at most models.RESET_MAILS_PER_HOUR
    to one address, so that no one can flood an inbox with the form. `site` is the shop's
    address (https://shop.example.com) as the request that asked saw it."""
    for user in models.users_for_password_reset(address):
        if models.reserve_reset_mail(user.email):
            send_password_reset_link(user, site)
        else:
            log.warning("no reset mail to %s: %d went there in the last hour", user.email,
                        models.RESET_MAILS_PER_HOUR)


def send_password_reset_link(user, site):
    token = models.make_reset_token(user, settings.secret())
    link = site + url("password_reset_confirm", uid=user.id, token=token)
    days = models.PASSWORD_RESET_TIMEOUT.days or 1
    send_mail(user.email, "Set a new password for Storefront", textwrap.dedent(f"""\
        Hello {user.username},

        Someone, we hope you, asked to set a new password for your account at Storefront.
        To choose one, open this link within {days} day{"s" if days > 1 else ""}:

        {link}

        It works once. If you did not ask, ignore this email: your password stays as it is.
        """))


# The token of a reset link moves into the session, and the browser on to this address, so
# that the address bar, the history and the Referer of the form's POST no longer hold it.
SET_PASSWORD = "set-password"


@accounts.route("/password/reset/<uid>/<token>", ["GET", "POST"], name="password_reset_confirm",
                secret_args=["token"])
def password_reset_confirm(uid, token):
    """Set a new password with the link of the email; afterwards every session of the
    account is logged out (the password's fingerprint changed) and the link is spent."""
    if token != SET_PASSWORD:           # the link of the email
        user = models.user_for_reset_token(uid, token, secret_keys())
        if user is not None:
            s = session(create=True)
            s["reset_token"] = token
            s.save()
            redirect(url("password_reset_confirm", uid=uid, token=SET_PASSWORD))
    else:
        s = session()
        user = models.user_for_reset_token(uid, s.get("reset_token") if s else None,
                                           secret_keys())
    if user is None:
        return link_not_valid()
    form = form_from_request(NewPasswordForm, owner=user)
    if request.method == "POST" and form.validate():
        del s["reset_token"]
        s.save()
        # Of the requests that post this form at once (a double click, a script), one spends
        # the link and sets its password; the others find the link spent.
        if not models.reset_password(user, form.password.data):
            return link_not_valid()
        log_event("password_reset", "password reset: %s", user.username, user_id=user.id)
        flash("Your new password is set: log in with it.")
        redirect(url("login"))
    return render("accounts/password_reset_confirm", status=400 if form.errors else 200,
                  form=form, account=user, title="Set a new password")


def link_not_valid():
    return render("accounts/password_reset_confirm", status=404, form=None,
                  title="Link not valid")


@accounts.get("/likes", name="likes")
@login_required
def liked_products():
    """The products the logged-in user likes."""
    liked = models.LikedItem.targets(Product, models.LikedItem.user == current_user())
    return render_products("accounts/likes", Product.catalog(cards=True).where(
        Product.id.in_(liked)), title="Products you like")


@accounts.route("/", ["GET", "POST"], name="account")
@login_required
def account():
    """The user's details, their delivery profile (edited here too) and latest orders."""
    user = current_user()
    customer = models.customer_for(user)
    form = profile_form(customer)
    if request.method == "POST" and form.validate():
        try:
            models.save_customer_profile(user, **form.data)
        except models.ValidationError as error:
            show_errors(form, error.errors)
        else:
            flash("Your delivery details have been saved.")
            redirect(url("account"))
    return account_page(user, customer, form=form, status=400 if form.errors else 200)


def account_page(user, customer, status=200, form=None, token_form=None, new_token=None):
    """The account page, with a form sent to it (or to its token form) and a new token."""
    orders = list(models.orders_of(customer).limit(5)) if customer else []
    return render("accounts/account", status=status, account=user, customer=customer,
                  form=form or profile_form(customer, posted=False), orders=orders,
                  token_form=token_form or TokenForm(), tokens=list(models.tokens_of(user)),
                  new_token=new_token, title="Your account")


class TokenForm(Form):
    name = StringField("Name", [validators.InputRequired(), validators.Length(max=100)],
                       description="What it is for: the program that will use it.")
    expires = wtforms.SelectField("Expires", choices=[SelectChoice(*choice) for choice in (
        ("", "Never"), ("7", "In 7 days"), ("30", "In 30 days"), ("90", "In 90 days"),
        ("365", "In a year"))], default="")


@accounts.post("/tokens", name="token_create")
@login_required
def token_create():
    """Make an API token and show it, this once: only its hash is kept."""
    user, form = current_user(), form_from_request(TokenForm)
    if form.validate():
        try:
            row, token = models.issue_token(user, form.name.data, int(form.expires.data or 0))
        except models.ValidationError as error:
            show_errors(form, error.errors)
        else:
            log.info("API token %s made by %s", row.prefix, user.username)
            return account_page(user, models.customer_for(user), new_token=(row, token))
    return account_page(user, models.customer_for(user), status=400, token_form=form)


@accounts.post("/tokens/<token_id>/revoke", name="token_revoke")
@login_required
def token_revoke(token_id):
    """Revoke one of the user's own tokens: programs using it are refused from now on."""
    if not models.revoke_token(current_user(), token_id):
        abort(404, "You have no token with this id.")
    flash("The token is revoked: programs using it are refused from now on.")
    redirect(url("account"))


###############################################################################
# 8. JSON API
###############################################################################

# The shop for programs, calling the same functions of models.py as the pages. Each operation
# is declared once, on its route (`openapi=Operation(...)`: what it takes, what it answers); the
# handlers' checks (check_query(), body_fields(): part 10) read it, and so does the builder of
# the OpenAPI document (part 14; /api/openapi.json, /api/docs). The tests hold every answer to it.

BODY_KIB = bottle.BaseRequest.MEMFILE_MAX // 1024       # Bottle reads no larger body
INDEX = ("products", "collections", "carts", "orders", "openapi", "docs")


def money(value):
    """A Decimal as the API writes money: a string with two decimals, "12.50"."""
    return str(models.to_money(value))


def json_response(data, status=200):
    """Answer `data` as JSON: times (kept in UTC) in ISO 8601, Decimals and UUIDs as strings.
    Bottle would turn a dict into JSON by itself, but not a list, nor these."""
    def convert(value):
        if isinstance(value, datetime.datetime):
            return value.replace(tzinfo=datetime.timezone.utc).isoformat()
        if isinstance(value, (Decimal, uuid.UUID)):
            return str(value)
        raise TypeError(f"{type(value).__name__} is not JSON serializable")
    response.status = status
    response.content_type = "application/json"
    return json.dumps(data, default=convert)


def api_error(status, message, errors=None, headers=None):
    """Stop the handler with an error, answered as JSON (part 9), `errors` naming each field."""
    error = HTTPError(status, message, headers=headers)
    error.errors = errors or {}
    raise error


def json_body():
    """The request body as a JSON object (a dict), or a 413 or 400 JSON error."""
    too_large = request.content_length > request.MEMFILE_MAX      # then it is not read
    raw = b"" if too_large else request.body.read(request.MEMFILE_MAX + 1)
    if too_large or len(raw) > request.MEMFILE_MAX:     # a chunked body announces no length
        api_error(413, f"The body is larger than {BODY_KIB} KiB.")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):   # not UTF-8, not JSON, or nested too deep
        data = None
    if not isinstance(data, dict):
        api_error(400, 'The body must be a JSON object, such as {"quantity": 1}.')
    return data


# --- Declaring an operation ------------------------------------------------------------------
# Bottle keeps any extra keyword of a route in `route.config`, where plugins find their
# settings; it would flatten a dict into dotted keys, but keeps a named tuple as it is. Schemas
# are JSON Schema, as OpenAPI 3.1 writes them: {"type": "integer", "minimum": 1}; a shape used
# more than once has a name in SCHEMAS and is pointed at: ref("Product").

# Operation("Carts", "One cart", ...): query, its Query parameters (the path's come from the
# route's wildcards); body, the Body it reads; answers, status to an answer(...) or to the
# description of an error (the builder adds those every operation of its kind gives); login,
# whether only the logged-in user may call it.
Operation = collections.namedtuple("Operation", "tag summary description query body answers "
                                   "login", defaults=(None, (), None, {}, False))
# A query parameter. check_query() refuses a number out of its schema's range, or a word not in
# its `enum` (saying `refusal`). A description may be a function, to follow the settings.
Query = collections.namedtuple("Query", "name schema description example refusal",
                               defaults=(None, None))
# The JSON body an operation reads: its schema's name, an example, and {field: schema}.
Body = collections.namedtuple("Body", "name example fields")


def answer(description, schema=None, created=None, **links):
    """A response: its JSON body's schema (a name, or a schema); for a 201, the Location of the
    `created` thing; links to the operations a client may call next with what it holds."""
    spec = {"description": description, "links": links}
    if schema:
        schema = ref(schema) if isinstance(schema, str) else schema
        spec["content"] = {"application/json": {"schema": schema}}
    if created:
        spec["headers"] = {"Location": {"description": f"The path of the new {created}.",
                                        "required": True, "schema": {"type": "string"}}}
    return {key: value for key, value in spec.items() if value}


def link(operation_id, description, body=None, **parameters):
    """A link to an operation, filling its parameters (or body) from this call: in
    "$response.body#/id" and "$request.path.cart_id", $ is the call just made."""
    spec = {"operationId": operation_id, "description": description,
            "parameters": parameters, "requestBody": body}
    return {key: value for key, value in spec.items() if value}


def ref(name, kind="schemas"):
    """A pointer to a shared piece of the document: ref("Product")."""
    return {"$ref": f"#/components/{kind}/{name}"}


def schema_of(node):
    """A schema, or the one in SCHEMAS that its $ref names."""
    return SCHEMAS[node["$ref"].rsplit("/", 1)[1]] if "$ref" in node else node


def integer(minimum, maximum=None, description=None):
    schema = {"type": "integer", "minimum": minimum, "maximum": maximum,
              "description": description}
    return {key: value for key, value in schema.items() if value is not None}


def json_object(properties, answer=True):
    """An object with these properties, all required. An answer has no others (so a field added
    to it but not here fails the tests); a request body may carry more, which are ignored."""
    schema = {"type": "object", "properties": properties, "required": list(properties)}
    return dict(schema, additionalProperties=False) if answer else schema


@contextlib.contextmanager
def cart_refusals(missing_product=409):
    """Answer a cart change that models.py refuses by the API's rule: too few in stock is a 409,
    a bad field a 400, a product that is not there a 409 if the body names it, else a 404."""
    try:
        yield
    except models.OutOfStock as error:
        api_error(409, "There are not enough in stock: nothing was changed.", error.errors)
    except models.ValidationError as error:
        if "product_id" in error.errors:
            api_error(missing_product, error.errors["product_id"],
                      {"product_id": error.errors["product_id"]})
        api_error(400, "Some fields are not valid: see errors.", error.errors)


# --- What the operations answer ----------------------------------------------------------------

def page_json(page, to_json):
    if page.out_of_range:
        api_error(404, f"There is no page {page.number}.")
    return json_response({"count": page.total, "page": page.number, "has_next": page.has_next,
                          "results": [to_json(row) for row in page.items]})


def product_json(p):
    return {"id": p.id, "title": p.title, "slug": p.slug, "description": p.description,
            "unit_price": money(p.unit_price), "price": money(p.price),
            "inventory": p.inventory,
            "collection": {"id": p.collection.id, "title": p.collection.title},
            "last_update": p.last_update, "images": [image_json(i) for i in p.photos]}


def image_json(image):
    """A product photo: its page size (the largest the shop makes) and what it shows."""
    width, height = image.size("page")
    return {"url": photo_url(image, "page"), "width": width, "height": height,
            "alt": image.alt}


def collection_json(c):
    return {"id": c.id, "title": c.title, "product_count": c.product_count,
            "featured_product_id": c.featured_product_id}


def line_json(line, unit_price):
    """A cart line or an order item (which keeps the price it was sold at)."""
    return {"product_id": line.product_id, "title": line.product.title,
            "unit_price": money(unit_price), "quantity": line.quantity,
            "line_total": money(unit_price * line.quantity)}


def cart_json(cart_id):
    lines = list(models.cart_lines(cart_id))
    return {"id": str(cart_id), "items": [line_json(l, l.product.price) for l in lines],
            "total": money(models.lines_total(lines))}


def order_json(order):
    return {"id": order.id, "placed_at": order.placed_at,
            "payment_status": order.payment_status_label.lower(),
            "item_count": int(order.item_count), "total": money(order.total_amount)}


# The shapes of these answers, for the document and the tests that hold every answer to it:
# SCHEMAS, in part 14.
UUID = {"type": "string", "format": "uuid"}


# --- The operations ----------------------------------------------------------------------------

def api_cart_id(cart_id):
    """The UUID of an existing cart, or a 404 (a malformed UUID finds nothing either)."""
    return get_or_404(models.Cart.select(), cart_id).id


def api_customer():
    """The logged-in user's Customer (None if they never checked out), or a 401."""
    user = current_user()
    if user is None:
        api_error(401, "Log in first: send an API token (Authorization: Bearer <token>, made "
                       "on your account page), or the session cookie. Orders belong to a user.",
                  headers={"WWW-Authenticate": 'Bearer realm="storefront"'})
    return models.customer_for(user)


# The query parameters (a path's come from the route). PAGE's description is a function: the
# page size is a setting, read when the document is made.
SEARCH = Query("q", {"type": "string", "pattern": r"^[^\u0000]*$"},
               "Words to find in the title or description, each a word or the start of one; "
               f"words in double quotes as a phrase (the first {SEARCH_LENGTH} characters "
               "count).", example="tea")
COLLECTION = Query("collection", ref("Id"), "Only the products of this collection.")
SORT = Query("sort", {"type": "string", "enum": list(models.CATALOG_SORTS)},
             "The order of the list: by default the best matches first when searching "
             "(relevance), else by title.", example="-price",
             refusal="Sort by one of: " + ", ".join(models.CATALOG_SORTS) + ".")
PAGE = Query("page", {"type": "integer", "minimum": 1, "maximum": models.MAX_INT, "default": 1},
             lambda: f"Which page ({settings.page_size} to a page).")
EXAMPLE_CART = "6f1c2a52-9b7e-4d0c-8a31-52c1f0e4b9d7"
NO_SUCH_PAGE = "There is no such page (past the last one)."
NOT_IN_CART = "There is no such cart, or the product is not in it."
LINE = {"cart_id": "$request.path.cart_id", "product_id": "$request.body#/product_id"}


@api.get("/", name="api_index", openapi=Operation(
    "Index", "Where things are",
    "The paths of the collections of things, and of this description.",
    answers={200: answer("Name to path.", "Index")}))
def api_index():
    return json_response({name: url("api_" + name) for name in INDEX})


@api.get("/products", name="api_products", openapi=Operation(
    "Products", "List products", "The catalog with the search, filter and sort of /products.",
    query=(SEARCH, COLLECTION, SORT, PAGE),
    answers={200: answer("A page of products.", "ProductPage"), 404: NO_SUCH_PAGE}))
def api_products():
    check_query()
    q, collection_id, sort = catalog_params()       # read as the HTML catalog reads them
    page = paginate(Product.catalog(q, collection_id, sort), count_limit=CATALOG_COUNT_LIMIT)
    models.attach_photos(page.items)        # the page's photos in one query
    return page_json(page, product_json)


@api.get("/products/<product_id>", name="api_product", openapi=Operation(
    "Products", "One product",
    answers={200: answer("The product.", "Product"), 404: "There is no such product."}))
def api_product(product_id):
    return json_response(product_json(models.attach_photos([get_or_404(
        Product.select(Product, Collection)
        .join(Collection, on=(Product.collection == Collection.id)), product_id)])[0]))


@api.get("/collections", name="api_collections", openapi=Operation(
    "Collections", "List collections", "Every collection, by title.",
    answers={200: answer("The collections.", {"type": "array", "items": ref("Collection")})}))
def api_collections():
    return json_response([collection_json(c) for c in models.collections_with_counts()])


@api.get("/collections/<collection_id>", name="api_collection", openapi=Operation(
    "Collections", "One collection",
    answers={200: answer("The collection.", "Collection"),
             404: "There is no such collection."}))
def api_collection(collection_id):
    return json_response(collection_json(get_or_404(models.collections_with_counts(),
                                                    collection_id)))


# Anyone may make carts, but one client only so many in a while (models.new_cart).
CART_QUOTA = (f"{models.CARTS_PER_CLIENT} carts in "
              f"{models.CARTS_WINDOW // datetime.timedelta(minutes=1)} minutes")
TOO_MANY_CARTS = dict(answer(
    f"This client (its address) has made its {CART_QUOTA} already, or has sent too many wrong "
    "tokens; `Retry-After` says when it may try again. The carts it made, and everyone "
    "else's, are kept.", "Error"),
    headers={"Retry-After": {"description": "Seconds until it may make a cart again.",
                             "required": True, "schema": integer(1)}})


@api.post("/carts", name="api_carts", openapi=Operation(
    "Carts", "Make a cart", "A new, empty cart. Its id is the key to it: keep it. A client "
    f"may make {CART_QUOTA}.",
    answers={201: answer(
        "The new cart.", "Cart", created="cart",
        GetCart=link("api_cart", "See the cart.", cart_id="$response.body#/id"),
        AddToCart=link("api_cart_add", "Put a product in it.", cart_id="$response.body#/id"),
        OrderCart=link("api_orders_create", "Order what it holds.",
                       body={"cart_id": "$response.body#/id"})),
        429: TOO_MANY_CARTS}))
def api_cart_create():
    try:
        cart = models.new_cart(client_address(request.environ))
    except models.TooManyCarts as refusal:
        minutes = (refusal.retry_after + 59) // 60
        api_error(429, f"This address has made too many carts: try again in {minutes} "
                       f"minute{'s' if minutes > 1 else ''}.",
                  headers={"Retry-After": str(refusal.retry_after)})
    response.set_header("Location", url("api_cart", cart_id=cart.id))
    return json_response(cart_json(cart.id), 201)


@api.get("/carts/<cart_id>", name="api_cart", openapi=Operation(
    "Carts", "One cart", "The cart's lines at today's prices, and its total.",
    answers={200: answer("The cart.", "Cart"),
             404: "There is no such cart (or the id is not a UUID)."}))
def api_cart(cart_id):
    return json_response(cart_json(api_cart_id(cart_id)))


@api.post("/carts/<cart_id>/items", name="api_cart_add", openapi=Operation(
    "Carts", "Add to a cart", "Adds the quantity to the product's line, or starts a line.",
    body=Body("NewLine", {"product_id": 1, "quantity": 2},
              {"product_id": ref("Id"), "quantity": integer(1, models.MAX_QUANTITY)}),
    answers={
        201: answer("The cart, with the product in it.", "Cart",
                    ChangeLine=link("api_cart_update", "Change the line's quantity.", **LINE),
                    RemoveLine=link("api_cart_remove", "Remove the line.", **LINE)),
        404: "There is no such cart.",
        409: "There is no such product, or too few in stock for the line's new quantity; "
             "nothing changed."}))
def api_cart_add(cart_id):
    cart_id = api_cart_id(cart_id)
    product_id, quantity = body_fields()
    with cart_refusals():
        models.add_to_cart(cart_id, product_id, quantity)
    return json_response(cart_json(cart_id), 201)


@api.patch("/carts/<cart_id>/items/<product_id>", name="api_cart_update", openapi=Operation(
    "Carts", "Change a line's quantity", "0 removes the line.",
    body=Body("QuantityChange", {"quantity": 3}, {"quantity": integer(
        0, models.MAX_QUANTITY, "The line's new quantity; 0 removes it.")}),
    answers={200: answer("The cart.", "Cart"), 404: NOT_IN_CART,
             409: "Not enough in stock; nothing changed."}))
def api_cart_update(cart_id, product_id):
    cart_id, product = api_cart_id(cart_id), get_or_404(Product.select(), product_id)
    quantity, = body_fields()
    with cart_refusals(missing_product=404):
        models.set_cart_quantity(cart_id, product.id, quantity)
    return json_response(cart_json(cart_id))


@api.delete("/carts/<cart_id>/items/<product_id>", name="api_cart_remove", openapi=Operation(
    "Carts", "Remove a line", answers={204: answer("The line is gone."), 404: NOT_IN_CART}))
def api_cart_remove(cart_id, product_id):
    cart_id, product = api_cart_id(cart_id), get_or_404(Product.select(), product_id)
    with cart_refusals(missing_product=404):
        models.set_cart_quantity(cart_id, product.id, 0)
    response.status = 204
    return ""


@api.get("/orders", name="api_orders", openapi=Operation(
    "Orders", "List my orders", "The logged-in user's orders, newest first.", query=(PAGE,),
    login=True, answers={200: answer("A page of orders.", "OrderPage"), 404: NO_SUCH_PAGE}))
def api_orders():
    customer = api_customer()
    check_query()
    return page_json(paginate(models.orders_of(customer)), order_json)


@api.get("/orders/<order_id>", name="api_order", openapi=Operation(
    "Orders", "One of my orders", "With its items at the prices charged.", login=True,
    answers={200: answer("The order.", "OrderDetail"),
             404: "There is no such order among the user's own."}))
def api_order(order_id, status=200):
    """One of the user's orders with its items; someone else's is a 404."""
    order = get_or_404(Order.with_totals().where(Order.customer == api_customer()), order_id)
    return json_response(dict(order_json(order), items=[
        line_json(i, i.unit_price) for i in models.order_lines(order.id)]), status)


@api.post("/orders", name="api_orders_create", openapi=Operation(
    "Orders", "Order a cart",
    "Orders what the cart holds, at today's prices, for the logged-in user, and empties the "
    "cart. It ships to the address of the user's customer profile, which the site's checkout "
    "form saves.",
    body=Body("NewOrder", {"cart_id": EXAMPLE_CART},
              {"cart_id": dict(UUID, description="The cart to order.")}), login=True,
    answers={
        201: answer("The order.", "OrderDetail", created="order", GetOrder=link(
            "api_order", "See the order again.", order_id="$response.body#/id")),
        409: "Nothing was ordered: a line is not in stock (`errors` maps each such product "
             "id to what is wrong), there is no such cart or it is empty, or the user has no "
             "delivery address yet."}))
def api_order_create():
    """The order ships to the address the site's checkout form saved (a user may have none)."""
    customer = api_customer()
    cart_id, = body_fields()
    cart = models.Cart.get_or_none(models.Cart.id == cart_id)
    if cart is None:
        api_error(409, "There is no such cart.", {"cart_id": "There is no such cart."})
    if customer is None:
        api_error(409, "There is no delivery address yet.", {
            "customer": "Check out once on the site (/checkout) to save your address; then "
                        "the API can place orders."})
    try:
        order = models.place_order(cart.id, customer)
    except models.OutOfStock as error:
        api_error(409, "Some items are not in stock: nothing was ordered.",
                  {str(product_id): message for product_id, message in error.errors.items()})
    except models.ValidationError as error:     # the cart is empty (or was ordered just now)
        api_error(409, "There is nothing in the cart to order.",
                  {"cart_id": " ".join(error.errors.values())})
    tell_of_orders([order.id], "placed")
    response.set_header("Location", url("api_order", order_id=order.id))
    return api_order(order.id, status=201)


@api.get("/openapi.json", name="api_openapi")
def api_openapi():
    """The description of the API, for programs."""
    return json_response(openapi_document(request.script_name.rstrip("/") or "/"))


@api.get("/docs", name="api_docs")
def api_docs():
    """The description of the API, for people: views/api/docs.tpl walks the document."""
    document = openapi_document(request.script_name.rstrip("/") or "/")
    origin = request.urlparts.scheme + "://" + request.urlparts.netloc
    return render("api/docs", doc=document, origin=origin, title="API documentation",
                  resolve=functools.partial(resolve, document))


###############################################################################
# 9. Errors
###############################################################################

ERROR_TITLES = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden",
                404: "Page not found", 405: "Method not allowed", 409: "Conflict",
                413: "Request too large", 429: "Too many requests", 500: "Server error",
                503: "Service unavailable"}


def render_error(error):
    """The one error page: JSON under /api/, else HTML in the site's layout."""
    status = error.status_code
    if status == 404 and str(error.body).startswith("Not found: "):   # Bottle's router
        error.body = f"There is no page at {request.path}."
    message = error.body if isinstance(error.body, str) and error.body and status != 500 \
        else {404: "There is nothing at this address.",
              405: f"This address does not accept {request.method} requests.",
              500: "Something went wrong on our side. It has been logged."}.get(status, "")
    if request.path.startswith("/api/"):
        return json_response({"error": ERROR_TITLES.get(status, "Error"), "message": message,
                              "errors": getattr(error, "errors", {}), "status": status}, status)
    try:
        return render("errors/error", status=status, code=status, message=message,
                      title=ERROR_TITLES.get(status, "Error"))
    except Exception:   # the page itself failed (the database is down?): plain text
        response.content_type = "text/plain; charset=utf-8"
        return f"{status} {ERROR_TITLES.get(status, 'Error')}\n{message}\n"


for _code in ERROR_TITLES:
    root.error(_code)(render_error)


###############################################################################
# 10. Security
###############################################################################

# What keeps one visitor's requests from harming others: the checks of the settings, signed
# values, the CSRF check of every POST, the client's true address behind a proxy, the host
# names this site answers to, text that is not text, who a program's API token or a signing-in
# proxy says is calling, and the headers of every answer. The hooks here are installed in the
# order part 3's table lists.

# --- The settings' checks --------------------------------------------------------------------

def _flag(value):
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _split(value):
    """'a, b,,c' -> ['a', 'b', 'c']"""
    return [item.strip() for item in value.split(",") if item.strip()]


# The names a laptop reaches the site by. ".localhost" is localhost and every name under it.
LOCAL_HOSTS = (".localhost", "127.0.0.1", "[::1]")
HOST_PATTERN = re.compile(r"(\*|\.?[a-z0-9-]+(\.[a-z0-9-]+)*\.?|\[[0-9a-f:.]+\])")
EMAIL_SCHEMES = ("", "file", "smtp", "smtps")


def whole_number(s, name, default):
    """A whole number of at least 1, or the default and a problem."""
    value = s.env(name).strip()
    if value and not (value.isascii() and value.isdigit() and int(value) >= 1):
        s.problems.append(f"STOREFRONT_{name}: {value!r} is not a whole number of at least 1")
        return default
    return int(value or default)


def addresses(s, name):
    """Comma-separated email addresses; one that cannot be is a problem, and left out."""
    found = _split(s.env(name))
    for wrong in [a for a in found if not re.fullmatch(models.EMAIL_PATTERN, a)]:
        s.problems.append(f"STOREFRONT_{name}: {wrong!r} is not an email address")
    return [a for a in found if re.fullmatch(models.EMAIL_PATTERN, a)]


def allowed_hosts(s, text):
    """STOREFRONT_ALLOWED_HOSTS as a list (the localhost names if empty), each checked."""
    hosts = [h.lower() for h in _split(text)] or list(LOCAL_HOSTS)
    s.problems += [f"STOREFRONT_ALLOWED_HOSTS: {host!r} is not a host name (write "
                   f"shop.example.com, .example.com or *; no scheme, no port)"
                   for host in hosts if not HOST_PATTERN.fullmatch(host)]
    return hosts


def trusted_proxies(s, text):
    """STOREFRONT_TRUSTED_PROXIES as a list of networks (none if empty or wrong)."""
    try:
        return parse_networks(text)
    except ValueError as error:
        s.problems.append(f"STOREFRONT_TRUSTED_PROXIES: {error}")
        return []


def parse_networks(text):
    """'10.0.0.1, 192.168.0.0/16' -> [IPv4Network('10.0.0.1/32'), ...]; ValueError names a
    bad entry."""
    networks = []
    for item in _split(text):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address or network") from None
    return networks


def email_url(s, url):
    """STOREFRONT_EMAIL_URL, its scheme checked."""
    if urllib.parse.urlsplit(url).scheme not in EMAIL_SCHEMES:
        s.problems.append("STOREFRONT_EMAIL_URL: use smtp://user:password@host:587?starttls=1, "
                          "smtps://..., or leave it empty for files")
    return url


def secret_key(s):
    """The secret key: the setting, or a key generated once and kept in the data dir (0600)."""
    if not s.secret_key:
        path = os.path.join(s.data_dir, "secret_key")
        if not os.path.exists(path):
            _write_new_secret(path)
        with open(path) as f:
            s.secret_key = f.read().strip()
        if not s.secret_key:
            raise ImproperlyConfigured(
                f"The secret key file {path} is empty. Delete it to have a new key made "
                f"(everyone is logged out), or set STOREFRONT_SECRET_KEY.")
    return s.secret_key


def _write_new_secret(path):
    """Write a new random key to `path` unless the file exists. Processes that start together
    must all read one complete key, never a file another is still writing: the key is written
    to a file of its own, then linked into place, which fails if another process was first."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    draft = f"{path}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_urlsafe(48))
    try:
        os.link(draft, path)
    except FileExistsError:
        pass                    # another process made the key first: theirs is the key
    finally:
        os.remove(draft)


settings = Settings()     # (see part 1)


# --- Signed values, the session and CSRF ----------------------------------------------------

def secret_keys():
    """The secret key, which signs, then the old keys that still verify what they signed
    (STOREFRONT_SECRET_KEY_FALLBACKS, as Django's SECRET_KEY_FALLBACKS)."""
    return [settings.secret(), *settings.secret_key_fallbacks]


def sign(value, key=None):
    mac = hmac.new((key or settings.secret()).encode(), value.encode(), hashlib.sha256)
    return f"{value}.{mac.hexdigest()}"


def unsign(signed):
    """The value of a string made by sign(), or None if it was tampered with."""
    value, _, mac = (signed or "").rpartition(".")
    if value and any(models.same_secret(sign(value, key), signed) for key in secret_keys()):
        return value
    return None


def _same_session_hash(s, user):
    """True if the session's fingerprint is the user's, made with the secret key or an old
    one (then it is made again with the key: the old one may go)."""
    for key in secret_keys():
        if models.same_secret(s.get("auth", ""), user.session_hash(key)):
            if key != settings.secret():
                s["auth"] = user.session_hash(settings.secret())
                s.save()
            return True
    return False


def session_cookies_of_old_keys(app, s):
    """Middleware: Beaker knows one key. A session cookie signed with an old key of
    STOREFRONT_SECRET_KEY_FALLBACKS is signed again with the new one before Beaker reads it,
    so that rotating the key logs no one out (Beaker's next save sends the new cookie)."""
    if not s.secret_key_fallbacks:
        return app

    def sig(key, value):            # Beaker's signature: HMAC-SHA1, in hex, before the id
        return hmac.new(key.encode(), value.encode(), hashlib.sha1).hexdigest()
    pattern = re.compile(rf'(?<![^;\s]){SESSION_COOKIE}="?([0-9a-f]{{40}})([^;"\s]+)"?')

    def resign(match):
        mac, value = match.groups()
        if any(hmac.compare_digest(mac, sig(key, value)) for key in s.secret_key_fallbacks):
            return f"{SESSION_COOKIE}={sig(s.secret(), value)}{value}"
        return match.group(0)

    def wsgi(environ, start_response):
        if SESSION_COOKIE in environ.get("HTTP_COOKIE", ""):
            environ["HTTP_COOKIE"] = pattern.sub(resign, environ["HTTP_COOKIE"])
        return app(environ, start_response)
    return wsgi


def set_cookie(name, value, max_age=None):
    """A cookie for this site only, out of reach of scripts and of cross-site posts; with
    max_age=0, the same cookie deleted. (Written by hand: our values are URL-safe already, and
    Bottle's SimpleCookie costs more than a cached page.)"""
    response.add_header("Set-Cookie", f"{name}={value}; Path=/; HttpOnly; SameSite=Lax"
                                      + ("" if max_age is None else f"; Max-Age={max_age}")
                                      + ("; Secure" if settings.secure_cookies else ""))


def session_options(s):
    """Beaker's session settings: server-side storage, a signed cookie, no write per request.
    (Beaker's own idle timeout would save every session on every request to note the time; a
    session notes it itself, at most every few minutes: session() in part 4. Only Redis gets
    Beaker's timeout too, so that its keys expire there.)"""
    options = {
        "session.key": SESSION_COOKIE,
        "session.secret": s.secret(),
        "session.httponly": True,
        "session.samesite": "Lax",
        "session.secure": s.secure_cookies,
        "session.save_accessed_time": False,
        "session.data_serializer": "json",   # never unpickle what a store hands back
        "session.auto": False,
    }
    if s.session_url.startswith("redis://"):
        models.load_driver("redis")
        # A Redis that does not answer is down (part 15), not holding a corrupt session that
        # Beaker should replace by a new one (its default, which asks the dead store twice).
        options.update({"session.type": "ext:redis", "session.url": with_timeouts(s.session_url),
                        "session.invalidate_corrupt": False,
                        "session.timeout": s.session_timeout,
                        "session.save_accessed_time": True})
    elif s.session_url == "memory":
        options["session.type"] = "memory"
    else:
        options.update({"session.type": "file",
                        "session.data_dir": os.path.join(s.data_dir, "sessions")})
    return options


def safe_next(target, default="/"):
    """Follow ?next= only to a path on this site: never to another host."""
    target = (target or "").strip()
    parts = urllib.parse.urlsplit(target)
    if not target.startswith("/") or target.startswith(("//", "/\\")) or parts.scheme \
            or parts.netloc or any(c in target for c in "\r\n\\"):
        return default
    return target


CSRF_COOKIE = "storefront_csrf"
SESSION_TOUCH_EVERY = 300      # seconds: how often a session in use is saved to say so


def session_lifetime(s):
    """How long session `s` may stay idle: STOREFRONT_SESSION_TIMEOUT with a login, the
    shorter STOREFRONT_ANONYMOUS_SESSION_TIMEOUT without (a cart: anyone can make one). In
    Redis, its key expires then too."""
    seconds = settings.session_timeout if s.get("user_id") else \
        settings.anonymous_session_timeout
    if "timeout" in s.namespace_args:       # Redis: Beaker gives the key this lifetime
        s.namespace_args["timeout"] = seconds + SESSION_TOUCH_EVERY
        if hasattr(s, "namespace"):
            s.namespace.timeout = seconds + SESSION_TOUCH_EVERY
    return seconds


def session_in_use(s, create):
    """False if session `s` was left idle too long: it is deleted, or when one is being
    created, emptied under a new id. Beaker notes when a session was last saved; saving it
    every few minutes keeps that close enough to "last used" to end sessions left idle."""
    idle = time.time() - (s.last_accessed or time.time())
    if idle > session_lifetime(s):
        if not create:
            s.delete()
            return False
        s.invalidate()                  # a new, empty session under a new id
    if "csrf" not in s or idle > SESSION_TOUCH_EVERY:
        s.setdefault("csrf", unsign(request.get_cookie(CSRF_COOKIE)) or secrets.token_urlsafe(32))
        s.save()
    return True


def stored_csrf_token():
    """The visitor's token: kept in the session, or before there is one, in a signed cookie
    (None if there is neither yet)."""
    s = session()
    return s["csrf"] if s else unsign(request.get_cookie(CSRF_COOKIE))


def csrf_token():
    """The token every form sends back (a new one, in the cookie, for a new visitor)."""
    env = request.environ
    if "storefront.csrf" not in env:
        token = stored_csrf_token()
        if not token and not env.get("storefront.token"):    # a program's call: no cookie
            token = secrets.token_urlsafe(32)
            set_cookie(CSRF_COOKIE, sign(token))
        env["storefront.csrf"] = token or ""
    return env["storefront.csrf"]


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def check_csrf():
    """One check for every unsafe request to any part of the site (installed in part 15):
    the token comes from the form field `csrf_token` or the `X-CSRF-Token` header. A JSON API
    call that carries no cookie at all speaks for nobody's browser session, so it needs none,
    nor does one that carries an API token."""
    if request.method in SAFE_METHODS:
        return
    if request.path.startswith("/api/") and (
            not request.cookies or request.environ.get("storefront.token")):
        return      # (no other site can make a browser send a token: authenticate_token)
    # The header as sent (raw: Bottle's decoded view raises on bytes that are not UTF-8).
    sent = request.headers.raw("X-CSRF-Token") or request.forms.get("csrf_token") or ""
    expected = stored_csrf_token()
    if not expected or not models.same_secret(sent, expected):
        abort(403, "The form's security token was missing or out of date. This protects you "
                   "from forms on other sites posting here in your name. Go back, reload the "
                   "page and try again.")


# --- Input that is not text, and broken cookies ---------------------------------------------

def refuse_bad_text():
    """Text that is not UTF-8, or holds a NUL (which PostgreSQL refuses to store), is a 400
    here, before any handler sees it: in the path, the query string or the form."""
    # The server hands over the raw bytes as Latin-1 text (Bottle's request.path has already
    # dropped what is not UTF-8; its raw form is kept in bottle.raw_path). Plain ASCII, the
    # usual case, is UTF-8 already.
    path, query = request.environ["bottle.raw_path"], request.query_string
    if not (path.isascii() and query.isascii() and "%" not in query):
        try:
            path.encode("latin1").decode("utf-8")
            urllib.parse.unquote_to_bytes(query.encode("latin1")).decode("utf-8")
        except UnicodeError:
            abort(400, "The address is not valid UTF-8 text.")
    if "%00" in request.query_string or "\x00" in request.path:
        abort(400, "The request contains a NUL character, which no text field may hold.")
    if request.content_type.startswith(("application/x-www-form-urlencoded", "multipart/")):
        multipart = request.content_type.startswith("multipart/")
        request.environ["storefront.form"] = _checked_form(_files_taken() if multipart else 0)


def _files_taken():
    """The most bytes of files the route takes (its `files` config: the admin's forms, with
    photos, and the product import), else 0. A body over it is refused before it is read,
    rather than spooled to disk."""
    try:
        taken = root.router.match(request.environ)[0].config.get("files", 0)
    except HTTPError:
        return 0            # no such route: its 404 or 405 comes next
    if taken and request.content_length > taken + 64 * 1024:     # the form's other fields
        abort(413, f"Send at most {taken // 2 ** 20} MB of files at once.")
    return taken


def _checked_form(files_taken=0):
    """The form decoded as UTF-8 text, or a 400 or 413: not UTF-8, a NUL, a file sent to a
    route that takes none. The files of a route that takes them are handed over among the
    form's values, as FileUploads."""
    # A form that names another charset (or one Python has never heard of, which made
    # Bottle 0.13.4 fail with a 500) is refused before Bottle decodes anything.
    charset = re.search(r";\s*charset=\"?([^\";\s]*)", request.content_type, re.I)
    if charset and charset[1].lower() not in ("utf-8", "utf8"):
        abort(400, "The form was not sent as UTF-8 text.")
    try:
        data = request.forms.decode()
    except UnicodeError:
        abort(400, "The form was not sent as UTF-8 text.")
    if any("\x00" in value for value in data.values()):
        abort(400, "The form contains a NUL character, which no text field may hold.")
    for name, upload in request.files.allitems():
        # Bottle files a text field over MEMFILE_MAX as a file without a name, which would
        # leave the field looking empty: refuse it instead.
        if not upload.raw_filename:
            abort(413, f"The field {name!r} holds more than {request.MEMFILE_MAX // 1024} "
                       f"KiB of text, more than any field here may.")
        if not files_taken:
            abort(400, "This form does not take files.")
        data.append(name, upload)
    return data


def ignore_broken_cookies():
    """A Cookie header that Python cannot parse ("a=1; $x=2") counts as no cookies at all, as
    Beaker, which finds the session in it, already counts it. Otherwise every page that reads
    a cookie would fail with a 500."""
    try:
        request.cookies
    except http.cookies.CookieError:
        request.environ["HTTP_COOKIE"] = ""


# --- An API call's query and body, checked by its operation's declaration ---------------

# Each operation of part 8 declares what it takes (`openapi=Operation(...)` on its route); its
# handler calls these to read that input, so a limit is written once, in the declaration.

def check_query():
    """A 400 naming each declared query parameter that its schema refuses. The HTML pages
    forgive ?page=abc, which a person may have typed; a program is better told of its mistake."""
    errors = {}
    for parameter in request.route.config["openapi"].query:     # the route Bottle matched
        value, schema = request.query.get(parameter.name), schema_of(parameter.schema)
        if value is None:
            continue
        if "enum" in schema and value not in schema["enum"]:
            errors[parameter.name] = parameter.refusal
        elif schema["type"] == "integer" and not (   # digits only: not "-3", " 2", "1e9", "١"
                re.fullmatch(r"[0-9]{1,19}", value)
                and schema["minimum"] <= int(value) <= schema["maximum"]):
            errors[parameter.name] = f"Send a whole number, {schema['minimum']} or more."
    if errors:
        api_error(400, "Some query parameters are not valid: see errors.", errors)


def body_fields():
    """The values of the body's declared fields, in order, each checked against its schema;
    every bad one is reported at once. JSON says what type a value is: "3" is not a number."""
    data, values, errors = json_body(), [], {}
    for name, schema in request.route.config["openapi"].body.fields.items():
        read = read_text if schema_of(schema)["type"] == "string" else read_number
        value, problem = (None, "This field is required.") if data.get(name) is None \
            else read(name, schema, data[name])
        values.append(value)
        if problem:
            errors[name] = problem
    if errors:
        api_error(400, "Some fields are not valid: see errors.", errors)
    return values


def read_text(name, schema, value):
    """(value, None) if `value` is what the schema asks for, else (None, what is wrong)."""
    if type(value) is not str:
        return None, "Send a string."
    try:
        return (uuid.UUID(value) if schema.get("format") == "uuid" else value), None
    except ValueError:
        return None, f"Send the id of a {name.removesuffix('_id')}, a UUID."


def read_number(name, schema, value):
    """As read_text(), for a whole number."""
    if type(value) is float and value.is_integer():
        value = int(value)          # 3.0 is the whole number 3, as JSON Schema counts it
    limits, problem = schema_of(schema), None
    if type(value) is not int:      # type(), not isinstance(): True is an int too
        problem = "Send a whole number."
    elif abs(value) > models.MAX_INT:       # what a database column holds
        problem = "That number is out of range."
    elif value < limits["minimum"] and schema == ref("Id"):     # no id is that small
        problem = f"Send a {name[:-3]}'s id, a whole number from {limits['minimum']} up."
    elif value < limits["minimum"]:
        problem = f"The {name} must be at least {limits['minimum']}."
    elif value > limits.get("maximum", models.MAX_INT):
        problem = f"The {name} can be at most {limits['maximum']:,}."
    return (None, problem) if problem else (value, None)


# --- Who the client is, and which host they asked for -----------------------------------------

def _is_trusted_proxy(address):
    return bool(settings.trusted_proxies) and \
        _in_networks(address, tuple(settings.trusted_proxies))


@functools.lru_cache(maxsize=1024)      # a request asks twice, and parsing is not free
def _in_networks(address, networks):
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped:      # ::ffff:10.0.0.1 is 10.0.0.1
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in networks)


def client_address(environ):
    """The client's IP address: the connection's (REMOTE_ADDR), unless that is a trusted proxy
    (STOREFRONT_TRUSTED_PROXIES). Then it is the right-most address of X-Forwarded-For that is
    not a trusted proxy: each proxy adds the address it was reached from at the right, so what
    lies left of the first untrusted one was written by the client and proves nothing."""
    address = environ.get("REMOTE_ADDR") or ""
    if not _is_trusted_proxy(address):
        return address
    for hop in reversed(environ.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        hop = hop.strip()
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break           # no proxy writes that: the last address we trust is the client
        address = hop
        if not _is_trusted_proxy(hop):
            break
    return address


def client_scheme(environ):
    """"https" or "http", as the client reached us: X-Forwarded-Proto from a trusted proxy."""
    scheme = environ.get("wsgi.url_scheme", "http")
    if _is_trusted_proxy(environ.get("REMOTE_ADDR")):
        forwarded = environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")[0].strip().lower()
        scheme = forwarded if forwarded in ("http", "https") else scheme
    return scheme


def believe_trusted_proxies_only():
    """Installed first of all (part 15). Afterwards REMOTE_ADDR is the client's address and
    wsgi.url_scheme its scheme, and the X-Forwarded-* headers are gone: Bottle's own
    request.remote_addr and request.url believe those headers from anyone, and redirects
    build their Location from request.url."""
    env = request.environ
    env["storefront.peer"] = env.get("REMOTE_ADDR")     # who connected: sign_in_from_proxy()
    if settings.trusted_proxies:
        env["REMOTE_ADDR"], env["wsgi.url_scheme"] = client_address(env), client_scheme(env)
    for header in ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST"):
        env.pop(header, None)


def host_allowed(host):
    """True unless the Host header `host` ("shop.example.com:8443"), if sent, names another
    site: one that matches no entry of STOREFRONT_ALLOWED_HOSTS, where ".example.com" is that
    domain and those under it, and "*" is any host (Django's ALLOWED_HOSTS)."""
    return host is None or _host_matches(host, tuple(settings.allowed_hosts))


@functools.lru_cache(maxsize=1024)      # every request asks, mostly about the same name
def _host_matches(host, allowed_hosts):
    host = host.lower()
    match = re.fullmatch(r"([a-z0-9.-]+|\[[a-f0-9:.]+\])(:[0-9]+)?", host)
    if not match:
        return False
    name = match.group(1).rstrip(".")
    for pattern in (p.rstrip(".") for p in allowed_hosts):
        if pattern == "*" or name == pattern or \
                (pattern.startswith(".") and (name == pattern[1:] or name.endswith(pattern))):
            return True
    return False


def check_host():
    """A request for a host name that is not this site's is a 400: a forged Host header would
    otherwise reach redirects and the links in emails."""
    host = request.environ.get("HTTP_HOST")
    if not host_allowed(host):
        log.warning("Refused a request for the host %r: if that is this site, add it to "
                    "STOREFRONT_ALLOWED_HOSTS.", host[:100])
        abort(400, "This site does not answer to the host name in your request.")


def absolute_url(path):
    """`path` as a full address, for an email: the scheme and host of this request, which
    believe_trusted_proxies_only() and check_host() have vouched for."""
    parts = request.urlparts
    return f"{parts.scheme}://{parts.netloc}{path}"


# --- Who is calling: a program's token, or the user a signing-in proxy names -----------------

# A wrong token counts as a failed login under this name, which no username can be (a space).
TOKEN_THROTTLE_NAME = "api token"
BEARER_CHALLENGE = 'Bearer realm="storefront", error="invalid_token"'


def bearer_token():
    """The token of an API call's `Authorization: Bearer <token>` header, or None."""
    if not request.path.startswith("/api/"):
        return None
    scheme, _, token = (request.headers.raw("Authorization") or "").strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def authenticate_token():
    """An API call with a bearer token acts as the token's user, exactly: the user is who
    current_user() answers, with their permissions. It has no session (session() answers
    None), so it sets no cookie, and needs no CSRF token. A wrong, revoked or expired token is
    a 401 and counts as a failed login from the client (models.login_throttle); one who has
    failed too often is refused with a 429 until the throttle lets them try again."""
    token = bearer_token()
    if token is None:
        return
    user = models.user_for_token(token)
    client = client_address(request.environ)
    if user is None:
        verdict = models.login_throttle(TOKEN_THROTTLE_NAME, client)
        if verdict.refuse_for:
            api_error(429, f"{verdict.reason} Try again in {verdict.refuse_for} s.",
                      headers={"Retry-After": str(verdict.refuse_for)})
        log.warning("wrong API token from %s", client)
        models.record_login_failure(TOKEN_THROTTLE_NAME, client)
        api_error(401, "The token is wrong, revoked or expired.",
                  headers={"WWW-Authenticate": BEARER_CHALLENGE})
    request.environ.update({"storefront.token": True, "storefront.user": user})


def sign_in_from_proxy():
    """Single sign-on (Django's RemoteUserMiddleware): a proxy in STOREFRONT_TRUSTED_PROXIES
    that has signed its user in (Kerberos, SAML, OpenID Connect) names them in the header
    STOREFRONT_REMOTE_USER_HEADER, and they are logged in as that user, made on first sight
    (unless STOREFRONT_REMOTE_USER_CREATE=0). When the header names someone else, or no one,
    the session it began is over. From any other peer the header proves nothing: ignored."""
    env = request.environ
    if not settings.remote_user_header or env.get("storefront.token") \
            or not _is_trusted_proxy(env.get("storefront.peer")):
        return
    name = request.headers.raw(settings.remote_user_header, "").strip()
    s = session()
    signed_in_as = s.get("remote_user") if s else None
    if signed_in_as is not None and signed_in_as != name:
        logout()
    if not name or (signed_in_as == name and current_user() is not None):
        return
    user = models.remote_user(name, create=settings.remote_user_create)
    if user is None:
        abort(403, f"There is no active account {name[:150]!r} here. Ask the shop's staff "
                   f"for one.")
    log.info("login: %s, signed in by the proxy %s", user.username, env.get("storefront.peer"))
    login(user, remote_user=name)


# --- What every answer carries --------------------------------------------------------------

def no_store_for_one_visitor():
    """A response made from the visitor's session (their account, cart, orders, the admin) is
    theirs alone: no browser cache or proxy may keep it for the next person at the computer."""
    if request.environ.get("storefront.private"):
        response.set_header("Cache-Control", "no-store")


SECURITY_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                "script-src 'self'; frame-ancestors 'none'; form-action 'self'; "
                                "base-uri 'self'; object-src 'none'"),
]


def with_security_headers(app):
    """Add the security headers to every response, errors and static files included, and
    mark every cookie Secure when the client came over HTTPS (even with
    STOREFRONT_SECURE_COOKIES off): a cookie set over HTTPS never needs to travel in clear."""
    def wsgi(environ, start_response):
        def start(status, headers, exc_info=None):
            names = {name.lower() for name, _ in headers}
            headers.extend(h for h in SECURITY_HEADERS if h[0].lower() not in names)
            if client_scheme(environ) == "https":
                headers = [(name, value + "; Secure") if name.lower() == "set-cookie"
                           and "; secure" not in value.lower() else (name, value)
                           for name, value in headers]
            return start_response(status, headers, exc_info)
        return app(environ, start)
    return wsgi


###############################################################################
# 11. Speed
###############################################################################

# Caching: whole pages, parts of pages and counts are kept in this process's memory, in Beaker
# cache regions. A shop handler knows nothing of it: a route declared with cache=True may be
# served from the page cache (the PageCache plugin, installed in part 15), a template asks for
# a part that is the same for everyone with fragment(), and paginate() keeps its counts here.
#
# When the shop's data changes, only what showed it goes out of date. Each tag of models.py (a
# table, or the rows about one object: models.about()) has a generation number, which every
# write committed to it raises. An entry is kept with the generation each tag it read had
# before the read (its stamp), and served while they all still have those: a like raises
# only its product's likes, so the catalog stays cached and that product's count is made
# again; an order raises only the stock of its products, so only the pages that show one of
# them are made again. The numbers live in this process, or in Redis where several processes
# must see each other's writes (one small read per cache lookup). While that Redis is down or
# frozen, no process can know what is out of date: pages are made afresh, and once it is back
# the tags written meanwhile are raised there and what this process cached before is dropped
# (_read_redis_generations: one try per interval, part 15).

# region -> seconds an entry lives at most. The playground's caching lessons use a region of
# their own, so a student running them never touches what the shop has cached.
CACHE_REGIONS = {"pages": 300, "fragments": 300, "counts": 300, "playground": 60}
# Beaker's memory cache never forgets by itself: a region that holds more than about this many
# bytes is emptied, so a crawler walking every URL cannot fill the memory (6 MB: some 200
# pages of the catalog).
CACHE_MAX_BYTES = 6_000_000
GENERATIONS_KEY = "storefront:generations"     # a Redis hash: tag -> generation
_cache_bytes = collections.Counter()
# The local numbers; the cache's Redis and its Breaker (part 15); the tags written while that
# Redis was down, and whether it was.
_generations = {"here": collections.Counter(), "redis": None, "breaker": None,
                "owed": set(), "lost": False}
_making = threading.local()     # .stamps: for each entry being made here, {tag: generation}


def make_cache(s):
    _generations.update(redis=None, owed=set(), lost=False)
    if s.cache_url in ("", "none", "off"):
        return None
    if s.cache_url.startswith("redis://"):
        redis = models.load_driver("redis")
        _generations["redis"] = redis.Redis.from_url(s.cache_url, **REDIS_TIMEOUTS)
        _generations["breaker"] = Breaker("cache")
    options = {"cache.regions": ", ".join(CACHE_REGIONS)}
    for region, expire in CACHE_REGIONS.items():
        # A region does not inherit cache.type: each names its own.
        options.update({f"cache.{region}.type": "memory", f"cache.{region}.expire": expire})
    manager = CacheManager(**parse_cache_config_options(options))
    _clear_regions(manager)     # Beaker's memory outlives a manager: start empty
    return manager


def generations(tags):
    """The generation of each of these tags now: [(tag, number)], sorted; None while the
    cache's Redis is down. Redis keeps an "epoch" beside them, drawn when it starts empty: an
    entry stamped before a restart of Redis (which forgets the numbers) is never taken as
    fresh after it."""
    tags = sorted(set(tags) | {"epoch"})
    if _generations["redis"] is None:
        return [(tag, _generations["here"][tag]) for tag in tags]
    try:
        return _generations["breaker"].call(_read_redis_generations, tags)
    except Unavailable:
        _generations["lost"] = True
        return None


def _read_redis_generations(tags):
    client = _generations["redis"]
    if _generations["lost"]:        # back after a failure: tell it what it missed, and keep
        _raise_in_redis(client, _generations["owed"])   # nothing cached before (another
        _generations.update(owed=set(), lost=False)     # process may have written then)
        _clear_regions(cache)
    numbers = client.hmget(GENERATIONS_KEY, tags)
    if numbers[tags.index("epoch")] is None:
        client.hsetnx(GENERATIONS_KEY, "epoch", secrets.randbelow(2 ** 62))
        numbers = client.hmget(GENERATIONS_KEY, tags)
    return [(tag, int(number or 0)) for tag, number in zip(tags, numbers)]


def _raise_in_redis(client, tags):
    with client.pipeline() as pipe:
        for tag in tags:
            pipe.hincrby(GENERATIONS_KEY, tag, 1)
        pipe.execute()


def _stamps():
    """The stamps being made here: this request's (what it has read so far: a page or a part
    of one may show any of it), and one for each entry being made."""
    try:
        read = [request.environ.setdefault("storefront.read", {})]
    except RuntimeError:        # outside a request (the CLI, a test)
        read = []
    return read + _making.__dict__.setdefault("stamps", [])


def _on_data_read(tags):
    """Told by models.py what a query is about to read: each stamp being made notes the
    generations of the tags it had not read yet. One that cannot (the cache's Redis is down)
    gets an impossible "*", so that what it stamps is never taken as fresh."""
    stamps = _stamps()
    new = {tag for tag in tags for stamp in stamps if tag not in stamp}
    if new:
        numbers = generations(new)
        for stamp in stamps:
            if numbers is None:
                stamp["*"] = -1
            for tag, number in numbers or ():
                stamp.setdefault(tag, number)


def _on_data_change(tags):
    """Told by models.py of every committed write: raise the generation of its tags (in Redis
    once it answers again, if it is down)."""
    client = _generations["redis"]
    if client is None:
        _generations["here"].update(tags)
    elif cache is not None:
        try:
            _generations["breaker"].call(_raise_in_redis, client, tags)
        except Unavailable:
            _generations["owed"].update(tags)
            _generations["lost"] = True


models.on_data_read(_on_data_read)
models.on_data_change(_on_data_change)


def invalidate_cache():
    """Make everything cached out of date, in every process that shares the generations."""
    _on_data_change({"*"})


def cached(region, key, compute):
    """The value cached under `key` in `region`, computed and stored on a miss or when what
    it read has changed since. `key` may be a function that makes the key, called only when
    caching is on."""
    if cache is None or _generations["lost"] and generations(()) is None:
        return compute()    # off, or its Redis still down (once back, what it held is gone)
    key = key() if callable(key) else key
    store = cache.get_cache_region("storefront." + region, region)
    try:
        entry = store.get(key)
    except KeyError:
        entry = None
    now = generations([tag for tag, _ in entry[0]] if entry is not None else ["*"])
    if now is None:                 # the cache's Redis is down: made afresh, kept nowhere
        return compute()
    hit = entry is not None and now == entry[0]
    if hit:
        value = entry[1]
        for stamp in _stamps():     # whatever shows this entry read what it read
            for tag, number in entry[0]:
                stamp.setdefault(tag, number)
    else:
        value, stamp = _make(compute, {tag: n for tag, n in now if tag in ("*", "epoch")})
        _cache_bytes[region] += _size(value)
        if _cache_bytes[region] > CACHE_MAX_BYTES:
            store.clear()
            _cache_bytes[region] = _size(value)
        store.put(key, (stamp, value))
    for listener in _cache_listeners:
        listener(region, key, hit=hit)
    return value


def _make(compute, start):
    """compute() and its stamp: the generations of what it read, each as it was before it
    was read, from what was read before it began (it may show that too) and `start`, the
    generations of "*" (which stands for everything) and of Redis's epoch."""
    before = _stamps()
    stamp = dict(start, **(before[-1] if before else {}))
    _making.stamps.append(stamp)
    try:
        value = compute()
    finally:
        _making.stamps.pop()    # (entries are made one inside another: this one is the last)
    return value, sorted(stamp.items())


_cache_listeners = []   # the debug toolbar records hits and misses here


def _size(value):
    """About how many bytes a cached value holds: its text, and a little for anything else."""
    if isinstance(value, (bytes, str)):
        return sys.getsizeof(value)     # (a text with one "—" in it takes 2 bytes a letter)
    if isinstance(value, (list, tuple)):
        return 56 + sum(map(_size, value))
    return 64


def forget(region, key):
    """Drop the value cached under `key` in `region`, if there is one."""
    if cache is not None:
        cache.get_cache_region("storefront." + region, region).remove_value(key)


def _clear_regions(manager):
    for region in CACHE_REGIONS:
        manager.get_cache_region("storefront." + region, region).clear()
    _cache_bytes.clear()


# No text a visitor or an admin can send holds a NUL (refuse_bad_text() and the forms refuse it),
# and the rest is drawn anew by each process: no page's text can be taken for the placeholder.
CSRF_PLACEHOLDER = f"\x00csrf-{secrets.token_hex(8)}\x00"


def for_everyone(render):
    """HTML that is the same for every visitor but for the CSRF token of its forms, rendered
    once with a placeholder for the token: the pieces between placeholders, to be joined with
    each visitor's own token."""
    env = request.environ
    token = env.get("storefront.csrf")
    env["storefront.csrf"] = CSRF_PLACEHOLDER
    try:
        html = render()
    finally:
        if token is None:
            del env["storefront.csrf"]
        else:
            env["storefront.csrf"] = token
    return html.split(CSRF_PLACEHOLDER)


def fragment(template_name, **context):
    """A part of a page that is the same for everyone who asks for this address (a product
    grid with its count and page links), rendered once until what it read changes, served
    with this visitor's CSRF token, the way Django's {% cache %} tag keeps a fragment: the rest of
    the page stays theirs. Peewee's queries, like Django's querysets, run when a template
    first loops over them: the queries a handler passes to a cached fragment never run."""
    key = address_key()
    if cache is None or request.method != "GET" or key is None:
        return partial(template_name, **context)
    return csrf_token().join(cached("fragments", f"{template_name} {key}", lambda: for_everyone(
        lambda: partial(template_name, **context))))


MAX_KEY = 500       # characters: a longer address is served, but not kept


def address_key():
    """This address as a cache key: the path and the query parameters the route `reads`, in
    one order, so ?v=1, ?v=2... or a reordered query make no new entries (a route that does not
    say what it reads keeps its whole query). None for an address too long to keep."""
    reads = request.route.config.get("reads")
    query = request.query_string if reads is None else urllib.parse.urlencode(
        [(name, value) for name in sorted(reads) for value in request.query.getall(name)])
    key = f"{request.path}?{query}"
    return key if len(key) <= MAX_KEY else None


class PageCache:
    """A Bottle plugin: a route declared with cache=True serves visitors who have no session
    (nor a notice to show) a page kept in the cache, rendered once for everyone: it is the
    same for all of them but for the CSRF token of its forms. Anything per user (a name, a
    cart) needs a session, and a session skips this cache (though not the fragments of a page)."""
    name, api = "page_cache", 2

    def apply(self, handler, route):
        if not route.config.get("cache"):
            return handler

        @functools.wraps(handler)
        def wrapper(*args, **kwargs):
            key = address_key()
            if cache is None or request.method != "GET" or request.get_cookie(SESSION_COOKIE) \
                    or request.get_cookie(FLASH_COOKIE) or key is None:
                return handler(*args, **kwargs)

            def render_for_everyone():
                request.environ["storefront.user"] = None
                parts = for_everyone(lambda: handler(*args, **kwargs))
                # Kept encoded: serving it is one join.
                return response.status_code, [part.encode() for part in parts]
            status, parts = cached("pages", key, render_for_everyone)
            response.status = status
            return csrf_token().encode().join(parts)
        return wrapper


# --- Static files and photos at addresses that name their version ---------------------------

STATIC_VERSIONED = re.compile(r"(.+)\.([0-9a-f]{12})(\.[^./]+)")     # css/base.<hash>.css
STATIC_FOR_A_YEAR = "public, max-age=31536000, immutable"
STATIC_FOR_A_WHILE = "public, max-age=600"


@store.get("/static/<path:path>", name="static")
def static(path):
    """A file of static/, never one a link inside it points at elsewhere (Bottle checks the
    path it is given, not where a symbolic link leads). At the address static_url() gives, with
    the file's version in its name, it never changes: browsers keep it for a year. At its plain
    address (or an old version's) it may change at any time: a few minutes."""
    versioned = STATIC_VERSIONED.fullmatch(path)
    if versioned:
        path = versioned[1] + versioned[3]
    found = os.path.realpath(os.path.join(STATIC, path))
    if os.path.commonpath([found, os.path.realpath(STATIC)]) != os.path.realpath(STATIC):
        return HTTPError(403, "Access denied.")     # as static_file() answers a "../"
    answer = static_file(path, root=STATIC)
    if answer.status_code in (200, 304):
        current = versioned and versioned[2] == static_version(path)
        answer.set_header("Cache-Control", STATIC_FOR_A_YEAR if current else STATIC_FOR_A_WHILE)
    return answer


# A photo's URL names its version (the hash of its content): a new photo is a new URL, so a
# browser, a proxy or a CDN may keep what it got for a year without asking again. This route
# reads no session and no cache: one query by primary key, or none for a browser that has it.
PHOTO_URL = "/media/<image_id:int>-<digest:re:[0-9a-f]{16}>-<size:re:[a-z]+>.webp"


@store.get(PHOTO_URL, name="photo")
def photo(image_id, digest, size):
    """One size of a product photo."""
    etag = f'"{digest}-{size}"'
    response.set_header("Cache-Control", STATIC_FOR_A_YEAR)
    response.set_header("ETag", etag)
    if etag in request.get_header("If-None-Match", ""):
        response.status = 304
        return b""
    data = models.photo_file(image_id, size, digest)
    if data is None:        # (an error answer has none of the headers above)
        abort(404, "No such photo: it may have been replaced.")
    response.content_type = "image/webp"
    return bytes(data)


def photo_url(image, size):
    """The address of one size of a photo (a ProductImage)."""
    return url("photo", image_id=image.id, digest=image.photo, size=size)


def srcset(image, *sizes):
    """The `srcset` of an <img>: each size's address and real width, for the browser to pick
    the smallest that fills the place the page gives it. (A small photo's sizes may all be
    as wide as it is: one of each width.)"""
    widths = {image.size(size)[0]: size for size in reversed(sizes)}
    return ", ".join(f"{photo_url(image, size)} {width}w" for width, size in sorted(widths.items()))



def static_url(path):
    """The address of a file of static/ with its version in the name: css/base.css is served
    as /static/css/base.<12 hex digits of its SHA-256>.css. A changed file gets a new address,
    so a browser may keep each one for a year (static() above says so)."""
    stem, ext = os.path.splitext(path)
    return url("static", path=f"{stem}.{static_version(path)}{ext}")


def static_version(path):
    """The version of a file of static/: its hash, computed again only when the file changes."""
    full = os.path.join(STATIC, path)
    return _file_hash(full, os.stat(full).st_mtime_ns)


@functools.lru_cache(maxsize=256)
def _file_hash(full_path, mtime):
    with open(full_path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:12]


# --- Work done after the answer: jobs a page does not wait for ---------------------------------

# Work that a page asks for but does not wait for, such as mailing a link: one thread does it,
# in the order asked, after the answer has gone. (At exit, Python finishes what is queued.)
_background = concurrent.futures.ThreadPoolExecutor(max_workers=1,
                                                    thread_name_prefix="storefront-background")
_last_queued = concurrent.futures.Future()     # (done: nothing is queued yet)
_last_queued.set_result(None)


def in_background(job, *args):
    """Have `job(*args)` done after this request, on a database connection of its own."""
    global _last_queued
    _last_queued = _background.submit(_do_job, job, *args)


def _do_job(job, *args):
    try:
        with db.connection_context():
            job(*args)
    except Exception:       # nobody waits for it: the log is where it can be seen
        log.exception("%s failed in the background", job.__name__)


def background_done():
    """Wait until the work asked for so far is done, and what it queued meanwhile (the jobs run
    in order: wait for the last one queued)."""
    waited = None
    while waited is not _last_queued:
        waited = _last_queued
        waited.result()


# --- Mail: what an order tells, and how every mail is sent ------------------------------------

# An order placed, completed or failed is told by mail: the customer always, the staff
# (STOREFRONT_ORDER_NOTIFY) of a new one. What they read is in views/mail/: for each event a
# plain text whose first line is the subject, and the same in HTML. The mails leave after the
# answer (in_background, above), so a slow or broken mail server never holds up or fails a
# checkout: the order is kept, and send_mail logs what it could not send, with the reason.

ORDER_MAILS = {"placed": ("mail/order_placed", "mail/order_staff"),
               "C": ("mail/order_complete", None), "F": ("mail/order_failed", None)}
ORDER_MAILS_A_TURN = 50


def tell_of_orders(order_ids, event):
    """Mail what `event` ("placed", or a payment status) says of these orders, once this
    request's transaction (if any) has committed, and after the answer."""
    site = absolute_url(request.script_name.rstrip("/"))
    models.on_commit(in_background, send_order_mails, list(order_ids), event, site)


def send_order_mails(order_ids, event, site, start=0):
    """Each order's mails of `event`, ORDER_MAILS_A_TURN orders at a time: the rest wait at
    the back of the queue, so that a checkout's mail waits for a turn of the mails of 200,000
    orders marked complete, not for all of them. `site` is the shop's address as the request
    saw it (https://shop.example.com), for the links."""
    for order_id in order_ids[start:start + ORDER_MAILS_A_TURN]:
        order = Order.select(Order, Customer).join(Customer).where(Order.id == order_id).first()
        if order is not None:
            send_order_mail(order, event, site)
    if start + ORDER_MAILS_A_TURN < len(order_ids):
        in_background(send_order_mails, order_ids, event, site, start + ORDER_MAILS_A_TURN)


def send_order_mail(order, event, site):
    """The customer's mail of `event`, and the staff's if it has one."""
    lines = list(models.order_lines(order))
    context = dict(order=order, lines=lines, total=models.lines_total(lines),
                   address=order.customer.addresses.first(), money=format_money,
                   date=format_date, link=site + url("order", order_id=order.id),
                   admin_link=site + url("admin_change", model="order", ident=order.id))
    to_customer, to_staff = ORDER_MAILS[event]
    if order.customer.email.endswith(".invalid"):   # a profile without an address of its own
        log.info("order %s: no mail to the customer, who has no address", order.id)
    else:
        send_template_mail(order.customer.email, to_customer, context)
    for address in settings.order_notify if to_staff else ():
        send_template_mail(address, to_staff, context)


def send_template_mail(to, name, context):
    """Send views/<name>.txt.tpl (its first line "Subject: ...") with views/<name>.html.tpl
    as the HTML alternative."""
    text = bottle.template(name + ".txt", **context)
    subject, _, body = text.partition("\n")
    send_mail(to, subject.removeprefix("Subject:").strip(), body.lstrip("\n"),
              bottle.template(name + ".html", **context))


# Every email goes through send_mail(). STOREFRONT_EMAIL_URL says how: by default each message
# is written as an .eml file under <data dir>/mail/ and shown on the console, so a laptop needs
# no mail server; smtp://user:password@host:587?starttls=1 (or smtps://host:465) sends it,
# from the address in ?from= (storefront@localhost otherwise).

def send_mail(to, subject, body, html=None):
    """Send a plain-text email, with `html` as its HTML alternative if given."""
    parts = urllib.parse.urlsplit(settings.email_url)
    options = dict(urllib.parse.parse_qsl(parts.query))
    message = email.message.EmailMessage()
    message["From"] = options.get("from", "storefront@localhost")
    message["To"], message["Subject"] = to, subject
    message["Date"], message["Message-ID"] = email.utils.formatdate(), email.utils.make_msgid()
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    if parts.scheme in ("smtp", "smtps"):
        # A mail server can take seconds to answer, or fail: no page waits for it (and so a
        # page that sent mail answers as fast as one that did not). A few at a time: 200,000
        # orders marked complete opened as many threads and connections at once.
        _smtp_slots.acquire()
        threading.Thread(target=_send_by_smtp, args=(parts, options, message),
                         daemon=True).start()
    else:
        _write_mail_file(message)


_smtp_slots = threading.BoundedSemaphore(8)      # mails sent at once, each on a thread


def _send_by_smtp(parts, options, message):
    try:
        tls = ssl.create_default_context()      # smtplib checks no certificate unless given one
        if parts.scheme == "smtps":
            server = smtplib.SMTP_SSL(parts.hostname, parts.port or 465, timeout=30, context=tls)
        else:
            server = smtplib.SMTP(parts.hostname, parts.port or 25, timeout=30)
        with server:
            if _flag(options.get("starttls", "0")):
                server.starttls(context=tls)
            if parts.username:
                server.login(urllib.parse.unquote(parts.username),
                             urllib.parse.unquote(parts.password or ""))
            server.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        log.error("Could not send the mail %r to %s: %s", message["Subject"], message["To"], error)
    finally:
        _smtp_slots.release()


def _write_mail_file(message):
    folder = os.path.join(settings.data_dir, "mail")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    path = os.path.join(folder, f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(4)}.eml")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)   # it may hold a link
    with os.fdopen(fd, "wb") as f:
        f.write(bytes(message))
    print(f"Mail to {message['To']}, saved as {path}:\n"
          + textwrap.indent(message.get_body(("plain",)).get_content(), "    "), flush=True)


###############################################################################
# 12. Admin site
###############################################################################

# The admin is one engine driven by a spec per model, like Django's ModelAdmin: a class that
# says which columns the list shows, what can be searched, filtered, sorted and edited. The
# generic views read these specs; adding a model to the admin is adding a spec. The engine
# comes first, then its views, then the specs of the shop's models.

REGISTRY = {}   # "product" -> ProductAdmin()


def register(spec_class):
    """Add a model to the admin (used as a class decorator)."""
    spec = spec_class()
    REGISTRY[spec.name] = spec
    return spec_class


def all_permissions():
    """Every "<model>.<action>" the admin checks, for the permission pickers (a spec that can
    import rows has an "import" of its own)."""
    return [f"{name}.{verb}" for name, spec in REGISTRY.items()
            for verb in models.PERMISSION_ACTIONS + (("import",) if spec.can_import else ())]


def column(label, sort=None, link=None, numeric=False, exported=True):
    """Mark a ModelAdmin method as a computed changelist column. The method returns the
    cell's value; `sort` is what the column sorts by, `link(row)` the address it links to,
    `numeric` right-aligns it (amounts and counts); a column not `exported` (a photo) is
    left out of the CSV export."""
    def mark(method):
        method.label, method.sort, method.link, method.numeric = label, sort, link, numeric
        method.exported = exported
        return method
    return mark


def action(label, permission="change", plan=None, logged_as=models.CHANGE):
    """Mark a ModelAdmin method as an action on the selected rows (Django's @admin.action).

    The method gets the query of the chosen rows and returns how many it changed. Running it
    needs the same permission as the page it stands for (`permission` of the model, and the
    spec's can_<permission>); its confirmation page shows `plan(model, condition)` if given
    (what a deletion takes with it) and refuses while the plan names protected rows.
    """
    def mark(method):
        method.label, method.permission, method.plan = label, permission, plan
        method.logged_as = logged_as
        return method
    return mark


def label_of(field, name):
    """A column's or a field's label, in one case style: "Unit price", "Is active"."""
    return models.field_label(field) if field is not None else name.replace("_", " ").capitalize()


def in_sentence(label):
    """A label inside a sentence: "Unit price" -> "unit price"."""
    return label[:1].lower() + label[1:]


def a_noun(label):
    """A label as a noun with its article: "Order" -> "an order"."""
    return ("an " if label[:1].lower() in "aeiou" else "a ") + label.lower()


def join_words(words):
    """["a", "b", "c"] -> "a, b and c"."""
    words = list(words)
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else "".join(words)


# --- Filters: each one offers its choices to the sidebar and narrows the query ---------------

class ListFilter:
    """A sidebar filter (Django's ListFilter). `params` are the query-string names that narrow
    the list; the sidebar shows it with views/admin/filter_<kind>.tpl."""
    kind = "choice"
    listed = True           # shown in the sidebar
    of_a_field = True       # named by a field of the model (a Choice is not)

    def __init__(self, name, label=None):
        self.name, self.label, self.params = name, label, (name,)

    def bind(self, model):
        """Called once, at start, by the spec that lists this filter: a misspelt field fails
        here rather than when someone opens the list."""
        self.field = model._meta.fields.get(self.name)
        if self.field is None and self.of_a_field:
            raise ImproperlyConfigured(f"{model.__name__} has no field {self.name!r} to filter by")
        self.label = self.label or label_of(self.field, self.name)
        return self

    def choices(self, cl):
        """[(value, text)] for the sidebar's links."""
        return []

    def apply(self, query, params):
        """`query` narrowed by what `params` (the query string) asks of this filter."""
        return query


class FieldFilter(ListFilter):
    """A filter on a foreign key, a field with choices, or a yes/no field, named by the field.

    A foreign key's rows are listed as links when they are few. A big table (its spec is a
    picker), or one with more rows than SHOWN, gets a search box too, ?<name>__search=, that
    lists the rows it finds: every row stays within reach, however many there are.
    """
    SHOWN = 20

    def bind(self, model):
        super().bind(model)
        if isinstance(self.field, peewee.ForeignKeyField):
            self.kind = "related"
            self.search_param = self.name + "__search"
        self.search_label = "Find " + a_noun(self.label)
        return self

    @property
    def related(self):
        """The spec of the model a foreign key points at (None if it has none)."""
        return REGISTRY.get(self.field.rel_model.__name__.lower())

    def choices(self, cl):
        field = self.field
        if isinstance(field, peewee.ForeignKeyField):
            return self.related_choices(cl.params.get(self.search_param, "").strip()[:100])
        if field.choices:
            return [(str(value), str(text)) for value, text in field.choices]
        return [("1", "Yes"), ("0", "No")]

    def related_choices(self, q):
        """Up to SHOWN + 1 related rows: those the sidebar's search finds, or the first ones
        of a small table (one more than shown tells that there are more)."""
        spec = self.related
        if spec is None or (spec.picker and not q):
            return []
        rows = spec.lookup(q, self.SHOWN + 1, self.visible(spec.model.select()))
        # In a big table two rows may share a name (two Ada Allens): the id tells them apart.
        return [(str(row.get_id()), f"{row} (#{row.get_id()})" if spec.picker else str(row))
                for row in rows]

    def visible(self, query):
        """The related rows a user may see named here: all of them for one who may view
        their table; for another, only those this list refers to (Django's
        RelatedOnlyFieldListFilter), so that the search box is no way into a table they may
        not see (a clerk of orders looking up any customer by email)."""
        if self.related is not None and self.related.permits(current_user(), "view"):
            return query
        return query.where(self.field.rel_model._meta.primary_key.in_(
            self.field.model.select(self.field)))

    def chosen(self, params):
        """The related row the list is filtered by, for its name (None if none is)."""
        model = self.field.rel_model
        key = models.parse_key(model, params.get(self.name, ""))
        return self.visible(model.select()).where(model._meta.primary_key == key).first() \
            if key is not None else None

    def apply(self, query, params):
        value = params.get(self.name, "")
        if value == "":
            return query
        if isinstance(self.field, peewee.BooleanField):
            return query.where(self.field == (value == "1"))
        if isinstance(self.field, peewee.ForeignKeyField):
            key = models.parse_key(self.field.rel_model, value)
            return query.where(self.field == key) if key is not None else query
        return query.where(self.field == value)


class Choice(ListFilter):
    """A filter of named conditions: ?<name>=<value> adds that option's `where`."""
    of_a_field = False

    def __init__(self, name, label, options):
        super().__init__(name, label)
        self.options = options        # [(value, text, where)]

    def choices(self, cl):
        return [(value, text) for value, text, _ in self.options]

    def apply(self, query, params):
        for value, _, where in self.options:
            if params.get(self.name) == value:
                query = query.where(where)
        return query


class Range(ListFilter):
    """A from/to filter on a number or date column: ?<field>__gte=&<field>__lte=. A date
    column also offers quick choices (today, the past 7 days, this month, this year), which
    are "from" dates: the same two parameters, so the form shows what a link chose."""
    kind = "range"

    def __init__(self, name, label=None):
        super().__init__(name, label)
        self.params = (name + "__gte", name + "__lte")

    def bind(self, model):
        super().bind(model)
        self.is_date = isinstance(self.field, (peewee.DateTimeField, peewee.DateField))
        return self

    def quick_choices(self):
        """[(text, "from" date as text)] for a date column; [] for a number."""
        if not self.is_date:
            return []
        today = models.utcnow().date()
        return [(text, day.isoformat()) for text, day in (
            ("Today", today), ("Past 7 days", today - datetime.timedelta(days=6)),
            ("This month", today.replace(day=1)), ("This year", today.replace(month=1, day=1)))]

    def bound(self, raw, upper):
        """A bound typed in the URL, or None if it is empty or malformed. A date "to" bound
        means the end of that day."""
        try:
            if self.is_date:
                moment = datetime.datetime.combine(datetime.date.fromisoformat(raw.strip()),
                                                   datetime.time.min)
                return moment + datetime.timedelta(days=1) if upper else moment
            value = Decimal(raw.strip())
            return value if value.is_finite() and abs(value) < 10 ** 12 else None
        except (ValueError, ArithmeticError, OverflowError):
            return None

    def apply(self, query, params):
        low, high = (self.bound(params.get(name, ""), upper)
                     for name, upper in zip(self.params, (False, True)))
        if low is not None:
            query = query.where(self.field >= low)
        if high is not None:
            query = query.where(self.field < high if self.is_date else self.field <= high)
        return query


class DateHierarchy(ListFilter):
    """The date drill-down above a list (Django's date_hierarchy): the years, then the months
    of a year, then the days of a month, each with how many rows it holds.
    ?<field>__year=2026&<field>__month=11 narrows the list to a range of the column, which its
    index serves; only the counts of the level shown are computed (one grouped query)."""
    kind = "dates"
    listed = False          # shown above the list, not in the sidebar
    PARTS = ("year", "month", "day")

    def __init__(self, name):
        super().__init__(name)
        self.params = tuple(f"{name}__{part}" for part in self.PARTS)

    def chosen(self, params):
        """The (year, month, day) chosen, as far as they are given and make a date: (2026, 11)."""
        chosen = []
        for param in self.params:
            value = models.parse_id(params.get(param, ""))
            try:
                datetime.date(*(chosen + [value] + [1] * (2 - len(chosen))))
            except (TypeError, ValueError, OverflowError):      # OverflowError: year 10**11
                break
            chosen.append(value)
        return tuple(chosen)

    @staticmethod
    def span(chosen):
        """The moments [start, end) of a year, month or day."""
        year, month, day = chosen + (1,) * (3 - len(chosen))
        start = datetime.datetime(year, month, day)
        try:
            if len(chosen) == 3:
                return start, start + datetime.timedelta(days=1)
            if len(chosen) == 2:
                return start, start.replace(year=year + month // 12, month=month % 12 + 1)
            return start, start.replace(year=year + 1)
        except (ValueError, OverflowError):     # the last day, month or year a date can have
            return start, datetime.datetime.max

    def apply(self, query, params):
        chosen = self.chosen(params)
        if not chosen:
            return query
        start, end = self.span(chosen)
        return query.where((self.field >= start) & (self.field < end))

    def levels(self, cl):
        """What the drill-down shows: (crumbs, choices), each a list of (text, link), with
        each choice's count: [("Nov 2026", link, 31)]."""
        chosen = self.chosen(cl.params)
        clear = {param: None for param in self.params}

        def level(parts, year=True):
            """(text, link) of a year, a month or a day: ("Nov 2026", link)."""
            day = datetime.date(*parts, *(1,) * (3 - len(parts)))
            text = [str(day.year), f"{day:%b}", f"{day.day} {day:%b}"][len(parts) - 1]
            text += f" {day.year}" if year and len(parts) > 1 else ""
            return text, cl.link(**dict(clear, **dict(zip(self.params, parts))))
        crumbs = [("All dates", cl.link(**clear))] if chosen else []
        crumbs += [level(chosen[:depth]) for depth in range(1, len(chosen) + 1)]
        if len(chosen) == 3:
            return crumbs, []
        known = chosen
        rows = cl.narrow(cl.spec.model.select(), leave_out=self)

        def counts_in(known):
            return models.date_counts(rows, self.field, self.PARTS[len(known)],
                                      self.span(known) if known else None)
        counts = counts_in(known)
        while len(counts) == 1 and len(known) < 2:
            # A single year (or month) to choose from: show what is in it (as Django does).
            known += (counts[0][0],)
            counts = counts_in(known)
        # Skipped to one year's months or days: no crumb says the year, so each choice does.
        return crumbs, [level(known + (value,), year=bool(known) and not chosen) + (count,)
                        for value, count in counts]


# --- One request's list ----------------------------------------------------------------------

class ChangeList:
    """A changelist as one request asks for it (Django's ChangeList): the search, filters and
    sort from the query string, the query they make, and links to "this list, with one thing
    changed" for the template."""
    MAX_SORT = 3        # columns a list sorts by at once

    def __init__(self, spec, params):
        self.spec = spec
        self.params = {k: v for k, v in params.items() if v != ""}
        self.q = self.params.get("q", "").strip()[:100]
        self.sorts = spec.sort_keys(self.params.get("sort", ""))[:self.MAX_SORT]
        self.show_all = self.params.get("all") == "1"
        # The rows the search and filters keep, on their own (what the date drill-down counts
        # and "select all" acts on), and the same rows as the list shows them: with the
        # spec's joins and columns, in order.
        self.rows = self.narrow(spec.model.select())
        self.query = spec.sorted(self.narrow(spec.queryset()), self.sorts)

    def narrow(self, query, leave_out=None):
        query = self.spec.search(query, self.q)
        for list_filter in self.spec.filters:
            if list_filter is not leave_out:
                query = list_filter.apply(query, self.params)
        return query

    def link(self, **changes):
        """This list's address with `changes` (a None value removes a parameter). Any change
        but a new page starts again at page 1."""
        params = dict(self.params, **({"page": None} if "page" not in changes else {}))
        params.update(changes)
        return url("admin_changelist", **dict(params, model=self.spec.name))

    def hidden(self, *leave_out):
        """The parameters a GET form on this page must carry along: [(name, value)]."""
        return [(k, v) for k, v in self.params.items() if k not in leave_out + ("page",)]

    @property
    def narrowed(self):
        """True when a search or a filter hides some rows."""
        names = {param for f in self.spec.filters for param in f.params}
        return bool(self.q) or any(name in self.params for name in names)

    @property
    def query_string(self):
        """The list's state for a "back to the list" link (the `_back` of forms)."""
        return urllib.parse.urlencode(self.params)

    @property
    def selection(self):
        """The keys of every row of this list, as a subquery: what "select all" acts on."""
        return self.rows.select(self.spec.model._meta.primary_key)

    @property
    def dates(self):
        """The date drill-down filter, if the spec has one."""
        return next((f for f in self.spec.filters if isinstance(f, DateHierarchy)), None)

    def sort_header(self, key):
        """How a column's heading sorts (Django's result_headers): a click puts the column
        first (reversed if it was sorted already), keeping the others after it; a shift-click
        (`add`) adds it last or reverses it in place; `remove` drops it; `priority` is its
        place (1 = first) and `descending` its direction, for a sorted column."""
        sorts = dict(self.sorts)        # {column: descending}, first column first
        sorted_by, desc = key in sorts, sorts.get(key, False)
        others = {name: d for name, d in sorts.items() if name != key}

        def text(keys):
            pairs = list(keys.items())[:self.MAX_SORT]
            return ",".join(("-" if d else "") + n for n, d in pairs) or None
        toggled = sorted_by and not desc
        return {"href": self.link(sort=text({key: toggled, **others})),
                "add": self.link(sort=text({**sorts, key: toggled})),
                "remove": self.link(sort=text(others)) if sorted_by else None,
                "priority": list(sorts).index(key) + 1 if sorted_by else None,
                "descending": desc}


def back_to_list(spec, query_string=""):
    """The changelist URL with the filters the user had (a query string, never another site)."""
    params = dict(urllib.parse.parse_qsl((query_string or "").lstrip("?")))
    return url("admin_changelist", **dict(params, model=spec.name))


# --- What a form changes, and what someone else changed meanwhile ---------------------------
#
# A form says what it was opened on: its hidden "<prefix>_opened" holds the row's values of the
# fields it shows, as they were then. The user's changes are the fields whose value differs
# from those, not from the row as it is now (someone else may have changed it since), and a
# save writes only those. In the transaction that saves, the row is read again and locked; if
# someone else has changed one of those fields since, nothing is saved: the user sees theirs
# and yours side by side (409), and may then save yours over theirs on purpose. A change to
# another field (a login's last_login, a checkout's stock) refuses nothing, and is kept.

OPENED = "_opened"


class RowEdit:
    """One form's edit of one row: a change form's, a list row's, an inline row's. `data` is
    what was sent (None: the form is being shown), `where` names the row on the conflict
    page, `relations` are the spec's many-to-many fields ({name: ManyToMany}). `deleting`: an
    inline row the user deletes, which any change made since the form was opened clashes with
    (they would not know what they deleted)."""

    def __init__(self, form, row, data=None, where=None, relations=None, deleting=False):
        self.form, self.row, self.where, self.deleting = form, row, where, deleting
        self.names = [name for name in getattr(form, "model_fields", ()) if name in form]
        relations = {name: r for name, r in (relations or {}).items() if name in form}
        sent = data.get(form._prefix + OPENED) if data is not None else None
        self.snapshot = self.read(sent) if sent else self.now(relations)

    def now(self, relations):
        """The row's values now, as a form says what it was opened on."""
        values = self.row.snapshot(self.names)
        values.update((name, sorted(relation.chosen(self.row)))
                      for name, relation in relations.items())
        return values

    @staticmethod
    def read(sent):
        """What a form sent it was opened on (a JSON object), or the 400 page."""
        try:
            snapshot = json.loads(sent)
        except ValueError:
            snapshot = None
        if not isinstance(snapshot, dict):
            abort(400, "The form does not say what it was opened on: reload the page.")
        return snapshot

    @property
    def opened_text(self):
        """What the form was opened on, for its hidden input."""
        return json.dumps(self.snapshot, sort_keys=True)

    @functools.cached_property
    def opened(self):
        """The values of the model fields when the form was opened (those it does not say,
        as the row was read by this request)."""
        try:
            said = self.row.read_snapshot(self.snapshot)
        except ValueError as error:
            abort(400, f"The form does not say what it was opened on ({error}).")
        return {name: said.get(name, self.row.__data__.get(name)) for name in self.names}

    @functools.cached_property
    def edits(self):
        """{field name: value} of the model fields the user changed (ask a valid form)."""
        return {name: self.form[name].data for name in self.names
                if not self.row.same(name, self.form[name].data, self.opened[name])}

    def opened_choices(self, name):
        """The values a many-to-many field showed chosen (None if the form does not say)."""
        chosen = self.snapshot.get(name)
        return {value for value in chosen if isinstance(value, (int, str))} \
            if isinstance(chosen, list) else None

    def labels(self):
        """The fields the user changed as the history names them: ["unit price"]."""
        return [in_sentence(self.form[name].label.text) for name in self.edits]

    def clashes(self):
        """Read the row again, locked until the transaction ends; [(self, {field name: value
        now})] if someone else has changed fields the user changed since the form was
        opened, else []."""
        edits, opened = self.edits, self.opened     # judged on the row as read before (for
        if not self.row.reread():                   # a form that does not say all)
            if self.deleting:
                return []       # deleted meanwhile: as the user asked
            abort(404, f"{self.where or 'This row'} was deleted meanwhile: nothing was saved.")
        if self.deleting:
            theirs = {name: self.row.__data__.get(name) for name in self.names
                      if not self.row.same(name, self.row.__data__.get(name), opened[name])}
        else:
            theirs = self.row.conflicts(edits, opened)
        return [(self, theirs)] if theirs else []

    def apply(self):
        """Assign the user's changes, and only them, onto the row as reread."""
        for name, value in self.edits.items():
            setattr(self.row, name, value)


class EditConflict(Exception):
    """Someone else has changed fields that a save changes too since its form was opened:
    `clashes` [(RowEdit, {field name: value now})]. Raised inside the save's transaction, so
    that leaving it takes back whatever the save had written."""

    def __init__(self, clashes):
        super().__init__(f"changed meanwhile: {len(clashes)} of the rows saved")
        self.clashes = clashes


def refuse_conflicts(edits):
    """Lock the rows of `edits` and raise EditConflict if someone else changed one of them."""
    clashes = [clash for edit in edits for clash in edit.clashes()]
    if clashes:
        raise EditConflict(clashes)


def conflict_page(spec, conflict, what, discard):
    """The 409 page of a save refused by `conflict`: per row and field, the value the form was
    opened on, theirs now, and yours; a button that sends the same form again, opened now on
    theirs (yours saved over theirs, on purpose), and a link `discard` that drops yours."""
    resent = {edit.form._prefix + OPENED: json.dumps(dict(
        edit.snapshot, **edit.row.snapshot(list(theirs))), sort_keys=True)
        for edit, theirs in conflict.clashes}
    fields = [(name, value) for name, value in form_data().allitems()      # (not files)
              if name != "csrf_token" and name not in resent and isinstance(value, str)] \
        + list(resent.items())
    tables = [(edit.where, [(edit.form[name].label.text,
                             *(field_text(edit.row, name, values[name])
                               for values in (edit.opened, theirs)),
                             "(deleted)" if edit.deleting else
                             field_text(edit.row, name, edit.edits[name]))
                            for name in theirs]) for edit, theirs in conflict.clashes]
    return render("admin/conflict", status=409, spec=spec, tables=tables, fields=fields,
                  discard=discard, body_class="admin",
                  title=f"Someone else changed {what} since you opened it")


def field_text(row, name, value):
    """A value of a field of `row` as the conflict page shows it: a related row by its name,
    a choice by its label, an empty value as a dash."""
    field = row._meta.fields[name]
    if isinstance(field, peewee.ForeignKeyField) and not isinstance(value, peewee.Model):
        key = models.parse_key(field.rel_model, value)      # a form may say anything
        related = field.rel_model.get_or_none(field.rel_field == key) if key else None
        value = value if related is None else related
    return display_value(dict(field.choices).get(value, value) if field.choices else value) \
        or "—"


# --- Inline rows and many-to-many pickers ----------------------------------------------------

class Inline:
    """Child rows edited on the parent's form: an order's items, a product's tags. The link to
    the parent is found by the spec: the child's foreign key to it, or a generic link.

    `extra` blank rows are offered for new ones ("Add another" adds more); `min_num` and
    `max_num` bound how many rows the parent may keep (an order needs at least one item).
    What a user may do with the rows is what they may do with the child model: view, add,
    change or delete its rows.
    """

    def __init__(self, model, fields=(), extra=2, label=None, min_num=0, max_num=100,
                 noun=None, ordering=("id",)):
        self.model, self.fields, self.extra, self.ordering = model, fields, extra, ordering
        self.min_num, self.max_num = min_num, max_num
        self.prefix = model.__name__.lower()
        # What one row is called ("order item"; a tagged item is "tag" on a product's form).
        self.noun, self.nouns = (noun, noun + "s") if noun else models.nouns(model)
        self.label = label or self.nouns.capitalize()

    def bind(self, parent_model):
        self.generic = issubclass(self.model, models.GenericLink)
        self.fk = None if self.generic else next(
            f for f in self.model._meta.sorted_fields
            if isinstance(f, peewee.ForeignKeyField) and f.rel_model is parent_model)
        return self

    def permits(self, user, verb):
        spec = REGISTRY.get(self.prefix)
        return spec.permits(user, verb) if spec else user.has_perm(f"{self.prefix}.{verb}")

    def labels(self):
        return [label_of(self.model._meta.fields.get(name), name) for name in self.fields]

    @functools.cached_property
    def form_class(self):
        # Every select of a child row may be left blank: a blank row is "no new row".
        blank = {f.name: {"allow_blank": True} for f in self.model._meta.sorted_fields
                 if isinstance(f, peewee.ForeignKeyField) and f.name in self.fields}
        return model_form_for(self.model, self.fields, field_args=blank)

    def rows(self, parent):
        if parent is None or parent.get_id() is None:
            return []
        # With their parents joined: a row's product prints without a query of its own.
        query = models.with_parents(self.model).where(
            self.model.pointing_at(parent) if self.generic else self.fk == parent)
        return list(query.order_by(*(getattr(self.model, name) for name in self.ordering)))

    def attach(self, row, parent):
        if self.generic:
            row.point_at(parent)
        else:
            setattr(row, self.fk.name, parent)


class InlineRows:
    """One inline's rows on one form (Django's inline formset): a form per row, prefixed
    "<prefix>-<n>-", each existing row carrying its id, then blank forms for new rows.

    <prefix>-TOTAL says how many forms were sent. A button named `_addrow` (its value the
    prefix) asks for one blank row more; admin.js adds the row without a round trip.
    With `as_new` ("Save as new") every row is a new row for the copy.
    """

    def __init__(self, inline, parent, data, user, as_new=False):
        self.inline, self.prefix, self.as_new = inline, inline.prefix, as_new
        self.can_add, self.can_change, self.can_delete = (
            inline.permits(user, verb) for verb in ("add", "change", "delete"))
        self.can_view = self.can_change or inline.permits(user, "view")
        self.errors = []
        existing = inline.rows(parent) if self.can_view else []
        room = max(0, inline.max_num - len(existing)) if self.can_add or as_new else 0
        if data is None:
            new = min(room, max(inline.extra, inline.min_num - len(existing)))
            self.rows = [(row, self._form(i, row, None))
                         for i, row in enumerate(existing + [None] * new)]
            return
        by_id = {str(row.get_id()): row for row in existing}
        sent = models.parse_id(data.get(self.prefix + "-TOTAL", "")) or 0
        total = min(sent + (data.get("_addrow") == self.prefix), len(existing) + room)
        self.rows, seen = [], set()
        for i in range(total):
            sent_id = data.get(f"{self.prefix}-{i}-id", "")
            row = by_id.get(sent_id)
            if sent_id and row is None:
                continue        # deleted meanwhile, or not a row of this parent
            if row is not None and sent_id in seen:     # two edits of one row: neither wins
                self.errors.append(f"One {inline.noun} was sent twice: reload the page.")
                continue
            seen.add(sent_id)
            if row is None and not self.can_add and not as_new:
                continue
            self.rows.append((None if as_new else row, self._form(i, row, data)))

    def _form(self, i, row, data):
        form = show_files(self.inline.form_class(data, obj=row, prefix=f"{self.prefix}-{i}-"),
                          row)
        form.row_id = "" if row is None or self.as_new else str(row.get_id())
        deleting = self.can_delete and bool((data or {}).get(f"{self.prefix}-{i}-DELETE"))
        form.edit = RowEdit(form, row, data, where=f"{self.inline.noun.capitalize()} "
                            f"{form.row_id}", deleting=deleting) if form.row_id else None
        return form

    @property
    def total(self):
        """The forms' count for <prefix>-TOTAL: one more than the highest form number."""
        return max((int(form._prefix.split("-")[-2]) + 1 for _, form in self.rows), default=0)

    @property
    def has_errors(self):
        """Whether the inline, or any of its rows, has something to correct."""
        return bool(self.errors) or any(form.errors for _, form in self.rows)

    def blank_form(self):
        """The form admin.js copies for "Add another" (its prefix holds __prefix__)."""
        return self.inline.form_class(None, prefix=f"{self.prefix}-__prefix__-")

    def editable(self, row):
        return self.can_add if row is None else self.can_change

    def text(self, row, name):
        """A field of a row the user may not edit, as text."""
        if row is None:
            return ""
        field, value = self.inline.model._meta.fields[name], getattr(row, name)
        return display_value(dict(field.choices).get(value, value) if field.choices else value)

    def deleting(self, row, form):
        return row is not None and form.edit.deleting

    @staticmethod
    def is_blank(row, form):
        """A new row the user left as it was offered: empty, or the field's default (a blank
        select submits "__None"; a file input without a file, "")."""
        def untouched(field):
            sent = (field.raw_data or [""])[0]
            return isinstance(sent, str) and sent.strip() in (
                "", "__None", "" if field.default is None else str(field.default))
        return row is None and all(untouched(field) for field in form)

    def validate(self, parent_label):
        """Check every row (WTForms, then the model's rules) and the number of rows kept."""
        valid, kept = True, 0
        for row, form in self.rows:
            if self.is_blank(row, form) or self.deleting(row, form):
                continue
            kept += 1
            if self.editable(row):
                valid = validate_form(form, row or self.inline.model()) and valid
        least = self.inline.min_num
        if self.can_view and kept < least:
            self.errors.append(f"{parent_label} needs at least {least} "
                               f"{self.inline.noun if least == 1 else self.inline.nouns}.")
        if kept > self.inline.max_num:
            self.errors.append(f"{parent_label} can have at most {self.inline.max_num} "
                               f"{self.inline.nouns}.")
        return valid and not self.errors

    def edits(self):
        """The RowEdits of the rows the user deletes or changes (and may)."""
        return [form.edit for row, form in self.rows if row is not None and (
            self.deleting(row, form) or self.can_change and form.edit.edits)]

    def save(self, parent):
        """Save, add or delete the rows; return what changed, in words, for the history. The
        rows changed are those that refuse_conflicts() read again."""
        changes, noun, edits = [], self.inline.noun, self.edits()
        for row, form in self.rows:
            if self.deleting(row, form):
                row.delete_instance()
                changes.append(f"Deleted {noun} {row.get_id()}.")
            elif form.edit in edits:
                changes.append(f"Changed {join_words(form.edit.labels())} of {noun} "
                               f"{row.get_id()}.")
                form.edit.apply()
                row.save()
            elif row is None and not self.is_blank(row, form) and self.can_add:
                target = self.inline.model()
                populate(form, target)
                self.inline.attach(target, parent)
                target.save()
                changes.append(f"Added {noun} {target.get_id()}.")
        return changes


class ManyToMany:
    """A many-to-many form field, read and written through its association class (a through
    model with a foreign key to this model): a product's promotions, a user's groups, and the
    permission names of a user or a group."""

    def __init__(self, through, model, choices=None):
        self.through = through
        self.own = next(f for f in through._meta.sorted_fields
                        if isinstance(f, peewee.ForeignKeyField) and f.rel_model is model)
        self.other = next(f for f in through._meta.sorted_fields
                          if f is not self.own and f is not through._meta.primary_key)
        self.choices = choices or (lambda: [(r.get_id(), str(r))
                                            for r in self.other.rel_model.select()])

    def chosen(self, obj):
        return [r.__data__[self.other.name] for r in self.through.select().where(self.own == obj)]

    def save(self, obj, values, opened=None):
        """Choose `values` on a form that showed `opened` chosen: add the values the user
        ticked, remove those they unticked, and leave the others as they are now, whoever
        changed them meanwhile (without `opened`: make the chosen values exactly `values`).
        Row by row, through the association class's own save and delete, which keep what
        depends on it (a product's price). Return True if anything changed (for the history)."""
        values = set(values or ()) & {value for value, _ in self.choices()}
        rows = {row.__data__[self.other.name]: row
                for row in self.through.select().where(self.own == obj)}
        opened = rows.keys() if opened is None else opened
        removed, added = (opened - values) & rows.keys(), values - opened - rows.keys()
        for value in sorted(removed):
            rows[value].delete_instance()
        for value in sorted(added):
            self.through.create(**{self.own.name: obj.get_id(), self.other.name: value})
        return bool(removed or added)

class CheckboxList:
    """A many-to-many field as a list of checkboxes, the chosen ones first, in a box that
    scrolls; admin.js adds a box that filters them as you type. A bare multiple select of
    every row is unusable past a dozen rows (and on a phone)."""
    group = True        # _field.tpl wraps it in a fieldset whose legend is the label

    def __call__(self, field, **attrs):
        chosen = set(field.data or ())
        choices = sorted(field.iter_choices(), key=lambda c: c[0] not in chosen and not c[2])
        items = []
        for n, choice in enumerate(choices):
            value, text, checked = choice[0], choice[1], choice[2] or choice[0] in chosen
            items.append(
                f'<li><label><input type="checkbox" name="{field.name}" id="{field.id}-{n}" '
                f'value="{bottle.html_escape(str(value))}"{" checked" if checked else ""}> '
                f'{bottle.html_escape(str(text))}</label></li>')
        return (f'<div class="checkbox-list" id="{field.id}" data-filter-label="Filter '
                f'{bottle.html_escape(field.label.text.lower())}"><ul>' + "".join(items)
                + "</ul></div>" if items else '<p class="muted">None to choose from.</p>')


# --- The spec ---------------------------------------------------------------------------------

class ModelAdmin:
    """What the admin shows of one model. Subclass it per model and pass it to register()."""
    model = None
    label = None                # "Order item"; made from the model's name if not given
    plural = None               # "Order items"; made from the label if not given
    area = "Shop"
    list_display = ("__str__",)
    list_editable = ()
    search_fields = ()          # "title" matches anywhere, "^first_name" at the start,
                                # "=id" exactly
    list_filter = ()            # field names (foreign keys, choices, booleans) or ListFilters
    date_hierarchy = None       # a date column: years, months and days above the list
    ordering = ("-id",)
    list_per_page = 50
    list_max_show_all = 200     # "Show all" is offered up to this many rows
    fields = None               # the form's fields (None: every editable field)
    fieldsets = None            # ((title or None, {"fields": (...), "collapse": True,
                                #   "description": "..."}), ...): the form in titled parts
    add_fieldsets = None        # the add form's parts, if not the same
    add_form = None             # a WTForms base class for the add form (the user's passwords)
    readonly_fields = ()
    superuser_fields = ()       # fields only a superuser may set (staff, permissions)
    picker = False              # True for big tables: foreign keys to this model get a
                                # search-as-you-type picker instead of a select of every row
    many_to_many = {}           # form field -> the association class:
                                # {"promotions": ProductPromotion}
    permissions_through = None  # the association class of "<model>.<action>" names
    prepopulated = {}           # {"slug": "title"}: filled from the title as you type
    inlines = ()
    actions = ()                # names of methods marked with @action, after delete_selected
    can_add = can_change = can_delete = True
    can_import = False          # rows can be imported from a CSV (its own permission, "import")
    export_fields = ()          # fields the CSV export adds after the list's columns
    save_as = False             # offer "Save as new" on the change form

    def __init__(self):
        self.name = self.model.__name__.lower()
        singular, plural = models.nouns(self.model)
        self.label = self.label or singular.capitalize()
        self.plural = self.plural or plural.capitalize()
        self.filters = [(f if isinstance(f, ListFilter) else FieldFilter(f)).bind(self.model)
                        for f in self.list_filter]
        if self.date_hierarchy:
            self.filters.append(DateHierarchy(self.date_hierarchy).bind(self.model))
        self.relations = {name: ManyToMany(through, self.model)
                          for name, through in self.many_to_many.items()}
        if self.permissions_through:
            self.relations["permissions"] = ManyToMany(
                self.permissions_through, self.model,
                choices=lambda: [(name, name) for name in all_permissions()])
        self.inlines = [inline.bind(self.model) for inline in self.inlines]
        self._form_classes = {}
        self._list_form_class = None

    def __str__(self):
        return self.plural

    # -- Who may do what --

    def permits(self, user, verb, obj=None):
        """May `user` view, add, change or delete rows here (`obj`: this row)? The user's
        permission, and what the spec allows at all (log entries are never edited). As in
        Django, whoever may change rows may view them."""
        if verb == "view":
            return user.has_perm(f"{self.name}.view") or self.permits(user, "change", obj)
        return getattr(self, "can_" + verb) and user.has_perm(f"{self.name}.{verb}")

    def permitted(self, user, verb, selection):
        """The rows of `selection` (a query of keys) that `user` may <verb> one by one: an
        action on many rows keeps to what permits(user, verb, row) allows row by row."""
        return selection

    # -- The list --

    def queryset(self):
        """The changelist's query: joins for the foreign keys it shows, never a query per row.
        (A foreign-key column sorts by the related model as joined here.) It adds columns;
        the search and filters narrow the rows, on this query and on the model alone.
        A required key always finds its row: an inner join says so, which lets the database
        walk the related rows in name order and each one's rows by index when sorted by it."""
        query = self.model.select(self.model)
        for name in self.list_display:
            field = self.model._meta.fields.get(name)
            if isinstance(field, peewee.ForeignKeyField):
                how = JOIN.LEFT_OUTER if field.null else JOIN.INNER
                query = (query.switch(self.model)
                         .join(field.rel_model, how, on=(field == field.rel_field))
                         .select_extend(*field.rel_model._meta.sorted_fields))
        return query

    def columns(self):
        """[Column(name, label, sort key or None, numeric)] for the changelist header."""
        result = []
        for name in self.list_display:
            field = self.model._meta.fields.get(name)
            if name == "__str__":
                result.append(Column(name, self.label, None, False))
            elif field is not None:
                numeric = isinstance(field, (peewee.IntegerField, peewee.DecimalField,
                                             peewee.FloatField)) and not field.choices \
                    and not isinstance(field, peewee.ForeignKeyField)
                result.append(Column(name, label_of(field, name), name, numeric))
            else:
                method = getattr(self, name)
                result.append(Column(name, method.label, name if method.sort is not None
                                     else None, method.numeric))
        return result

    def sort_keys(self, text):
        """?sort=collection,-unit_price as [("collection", False), ("unit_price", True)]: only
        the sortable columns (a whitelist), each once."""
        sortable = {c.name for c in self.columns() if c.sort}
        keys = []
        for item in text.split(","):
            name = item.strip().lstrip("-")
            if name in sortable and name not in dict(keys):
                keys.append((name, item.strip().startswith("-")))
        return keys

    def sort_expressions(self, name):
        """What a column sorts by: its field; for a foreign key, the related row's name (the
        related spec's ordering, then its key)."""
        field = self.model._meta.fields.get(name)
        if isinstance(field, peewee.ForeignKeyField):
            related = REGISTRY.get(field.rel_model.__name__.lower())
            ordering = related.ordering if related else ()
            return [(getattr(field.rel_model, n.lstrip("-")), n.startswith("-"))
                    for n in ordering] + [(field.rel_model._meta.primary_key, False)]
        if field is not None:
            return [(field, False)]
        return [(getattr(self, name).sort, False)]

    def sorted(self, query, keys):
        """`query` in the order of the sort keys [(column, descending)] (see sort_keys), or
        of the spec's `ordering` if none; its primary key last, so that no two pages share
        a row."""
        order = []
        for name, descending in keys:
            order += [e.desc() if descending != reverse else e
                      for e, reverse in self.sort_expressions(name)]
        if not keys:
            keys = [(n.lstrip("-"), n.startswith("-")) for n in self.ordering]
            order = [getattr(self.model, n).desc() if d else getattr(self.model, n)
                     for n, d in keys]
        pk = self.model._meta.primary_key
        # The key in the direction of the last column, so that an index serves both.
        return query.order_by(*order, pk.desc() if keys[-1][1] else pk)

    def value(self, row, name):
        """What a column or a read-only field holds for `row`: a related row, a choice's
        label, a computed value, the names chosen in a many-to-many field."""
        if name == "__str__":
            return str(row)
        if name in self.relations:
            chosen = set(self.relations[name].chosen(row))
            return ", ".join(str(text) for value, text in self.relations[name].choices()
                             if value in chosen)
        field = self.model._meta.fields.get(name)
        if field is None:                       # a computed column
            return getattr(self, name)(row)
        value = getattr(row, name)
        return dict(field.choices).get(value, value) if field.choices else value

    def field_label(self, name):
        """The label of a field, also of a read-only or many-to-many one: "Unit price"."""
        return label_of(self.model._meta.fields.get(name), name)

    def link(self, row, name):
        """Where a cell links to: the related row's page, or a computed column's link."""
        field = self.model._meta.fields.get(name)
        if isinstance(field, peewee.ForeignKeyField):
            spec, related = REGISTRY.get(field.rel_model.__name__.lower()), getattr(row, name)
            return url("admin_change", model=spec.name, ident=related.get_id()) \
                if related is not None and spec else None
        method = getattr(self, name, None)
        return method.link(row) if getattr(method, "link", None) else None

    def display(self, row, name):
        """A cell: (text, link or None)."""
        return display_value(self.value(row, name)), self.link(row, name)

    def object_tools(self, obj):
        """Links beside History on the change form: [(text, href)]."""
        return []

    def prepare_rows(self, rows):
        """Fetch for a page of the list, in one query, what its columns show that no join
        brings (a product's main photo). A spec that needs it overrides this."""
        return rows

    @functools.cached_property
    def takes_files(self):
        """Whether its form or one of its inlines has a file to upload: then the form is sent
        as multipart/form-data."""
        return any(isinstance(field, models.ImageField) for model in
                   [self.model] + [inline.model for inline in self.inlines]
                   for field in model._meta.sorted_fields)

    def search(self, query, q):
        """`query` narrowed to the rows that match every term of `q` in some search field
        (Django's rule): "aged almonds" finds "Aged Almonds No. 358", and a "quoted phrase"
        stays together; an empty `q` keeps every row. A spec may override it (a full-text
        index, say)."""
        for term in models.search_phrases(q):
            matches = []
            for spec in self.search_fields:
                field = getattr(self.model, spec.lstrip("^="))
                if spec.startswith("="):
                    if models.parse_id(term) is not None:
                        matches.append(field == models.parse_id(term))
                else:
                    matches.append(models.text_like(field, term, starts=spec.startswith("^")))
            # A term no field can match (a word in an id-only search) matches nothing.
            query = query.where(functools.reduce(operator.or_, matches) if matches
                                else SQL("0 = 1"))
        return query

    def lookup(self, q, limit, rows=None):
        """The first `limit` of `rows` (the model's) that a search for `q` finds (any, for
        none), in the spec's order: what a picker and a filter's search box offer, at each
        letter typed. Where an index finds the matches (words of three letters or more), the
        rows are picked among them as a search's page is: walking the customers in name
        order for a rare name took 256 ms on PostgreSQL at 200,000 customers, and 6 this way.
        One or two letters walk: the matches would be found by reading every row (240 ms on
        PostgreSQL), where the walk finds a common prefix at once."""
        rows = self.model.select() if rows is None else rows    # (`or` would run a query)
        query = self.sorted(self.search(rows, q), ())
        if not models.has_trigrams(q):
            return query.limit(limit)
        return models.Page(query, 1, limit, ADMIN_SEARCH_COUNT_LIMIT, searched=True).items

    # -- Actions --

    def action_names(self):
        return ("delete_selected",) + tuple(self.actions)

    def action_label(self, name):
        return getattr(self, name).label.format(plural=self.plural.lower())

    def allowed_actions(self, user):
        """[(name, label)] of the actions this user may run (each needs its own permission)."""
        return [(name, self.action_label(name)) for name in self.action_names()
                if self.permits(user, getattr(self, name).permission)]

    @action("Delete selected {plural}", permission="delete", plan=models.deletion_plan,
            logged_as=models.DELETION)
    def delete_selected(self, query):
        pk = self.model._meta.primary_key
        ids = [key for (key,) in query.select(pk).tuples()]
        for start in range(0, len(ids), 500):       # bounded IN lists, however many rows
            models.delete_rows(self.model, pk.in_(ids[start:start + 500]))
        return len(ids)

    # -- The form --

    def layout(self, adding):
        """The form's parts: [(title or None, options, [field names])]."""
        fieldsets = (self.add_fieldsets if adding else None) or self.fieldsets
        if fieldsets:
            return [(title, options, list(options["fields"])) for title, options in fieldsets]
        names = self.fields or [f.name for f in self.model._meta.sorted_fields
                                if f is not self.model._meta.primary_key]
        return [(None, {}, [n for n in names if n not in self.relations]
                 + list(self.relations) + [n for n in self.readonly_fields if n not in names])]

    def form_class(self, adding=False):
        """A WTForms class made from the model by wtf-peewee, with the spec's pickers."""
        key = bool(adding and self.add_form)
        if key not in self._form_classes:
            base = self.add_form if key else Form
            names = [name for _, _, names in self.layout(adding) for name in names]
            fields = [n for n in names if n in self.model._meta.fields and n not in
                      self.readonly_fields and n not in self.relations and not hasattr(base, n)]
            form = model_form_for(self.model, fields, base_class=base)
            for name in self.relations:
                if name in names:
                    related = isinstance(self.relations[name].other, peewee.ForeignKeyField)
                    setattr(form, name, SelectMultipleField(
                        label_of(None, name), widget=CheckboxList(),
                        coerce=int if related else str, validate_choice=False))
            self._form_classes[key] = form
        return self._form_classes[key]

    def readonly(self, user):
        """The fields this user sees as text on a form they may edit."""
        return tuple(self.readonly_fields) + (() if user.is_superuser else self.superuser_fields)

    # -- The change form, step by step --
    #
    # changeform_view() adds or changes one row in small steps, each a method a spec may
    # override, as in Django's ModelAdmin: a spec that stamps a field on every save overrides
    # save_model(), one that sends the user elsewhere after a change overrides
    # response_change(). A step that answers the request either returns the page or raises
    # Bottle's redirect().

    def changeform_view(self, ident=None):
        """Add a row (ident None) or change one: show its form; on a POST, check it, save and
        log it in one transaction, then redirect; or show the form again with every error,
        or the conflict page if someone else has changed what it changes since it was shown.
        A row the user may only view is shown as text; "Save as new" adds a copy."""
        user, data = current_user(), form_data() if request.method == "POST" else None
        original = None if ident is None else self.get_object(ident)
        as_new = original is not None and data is not None and "_saveasnew" in data
        adding = original is None or as_new
        if data is not None:
            self.require_save(original, adding, as_new)
        obj = self.model() if adding else original
        form = self.get_form(obj, data, user, adding)
        inlines = self.get_inline_rows(original, data, user, as_new)
        back = (data or request.query).get("_back", "")
        # "Add another" row, pressed without JavaScript, asks only for the form again.
        if data is not None and "_addrow" not in data and self.validate_all(form, obj, inlines):
            try:
                if self.save_and_log(form, obj, inlines, adding):
                    respond = self.response_add if adding else self.response_change
                    return respond(obj, data, back)
            except EditConflict as conflict:
                return self.response_conflict(obj, conflict, back)
        return self.render_change_form(form, inlines, obj=obj, original=original,
                                       adding=adding, back=back, user=user)

    def get_object(self, ident):
        """The row to change, or the 404 page."""
        return get_or_404(self.model.select(), ident)

    def require_save(self, original, adding, as_new):
        """403 unless the user may save this form: add a row, or change `original`, or add a
        copy of it where the spec offers "Save as new"."""
        require(self, "add" if adding else "change", original)
        if as_new and not self.save_as:
            abort(403, f"{self.plural} cannot be saved as new rows.")

    def get_form(self, obj, data, user, adding=False):
        """The form of `obj`, filled in from `data` (what was sent) or else from the row;
        without the fields `user` may not set, with the many-to-many choices."""
        # A new row has no related rows yet: reading its foreign keys would raise.
        existing = obj.get_id() is not None
        form = show_files(self.form_class(adding)(data, obj=obj if existing else None), obj)
        for name in self.readonly(user):
            if name in form:
                del form[name]      # what the user may not set is not read from the request
        form.edit = RowEdit(form, obj, data, relations=self.relations) if existing else None
        for name, relation in self.relations.items():
            if name in form:
                form[name].choices = [SelectChoice(*choice) for choice in relation.choices()]
                if data is None and existing:
                    form[name].data = form.edit.snapshot[name]      # as chosen now
        return form

    def get_inline_rows(self, original, data, user, as_new=False):
        """Each inline's rows on the form (Django's formsets): those of `original`, as sent."""
        return [InlineRows(inline, original, data, user, as_new) for inline in self.inlines]

    def validate_all(self, form, obj, inlines):
        """Validate the form and every inline, all in one round: every error shows at once."""
        valid = validate_form(form, obj)
        label = a_noun(self.label).capitalize()
        for rows in inlines:
            valid = rows.validate(label) and valid
        return valid

    def save_and_log(self, form, obj, inlines, adding):
        """Save the form and write the row's history in one transaction, all or nothing.
        True if saved; False if the database refused, with its reason shown on the form."""
        try:
            with models.write_transaction():
                self.refuse_conflicts(form, inlines)
                message = self.save_change(form, obj, inlines, adding)
                self.log_change(obj, message, adding)
        except models.ValidationError as error:
            show_errors(form, error.errors)
        except IntegrityError as error:
            form.form_errors.append(f"The database refused this change: {error}.")
        else:
            return True
        return False

    def refuse_conflicts(self, form, inlines):
        """Read the row and the inline rows this save changes again, locked until it is over,
        and raise EditConflict if someone else has changed a field it changes since the form
        was opened. (The row is read again however little changes: its save works out what
        depends on it, a product's price, from what it holds now.)"""
        edits = [form.edit] if form.edit else []
        refuse_conflicts(edits + [edit for rows in inlines for edit in rows.edits()])

    def save_change(self, form, obj, inlines, adding):
        """Save the row, its many-to-many fields and inline rows; return the change message.
        A change writes only the fields the user changed (their edits)."""
        if adding:
            changed = []
            populate(form, obj)
        else:
            changed = form.edit.labels()
            form.edit.apply()
        self.save_model(form, obj, adding)
        changed += [in_sentence(label) for label in self.save_many_to_many(form, obj)]
        return self.change_message(changed, self.save_inlines(obj, inlines), adding)

    def save_model(self, form, obj, adding):
        """Save the row the form filled in (Django's save_model): a spec may add to it."""
        obj.save(force_insert=adding)

    def save_many_to_many(self, form, obj):
        """Store the many-to-many fields; return the labels of those that changed."""
        return [form[name].label.text for name, relation in self.relations.items()
                if name in form and relation.save(obj, form[name].data, form.edit and
                                                  form.edit.opened_choices(name))]

    def save_inlines(self, obj, inlines):
        """Save, add or delete each inline's rows; return what happened to them, in words."""
        return [message for rows in inlines for message in rows.save(obj)]

    def change_message(self, changed, details, adding):
        """The history's words for one save (Django's construct_change_message): "Added.",
        or "Changed unit price and promotions.", then what happened to the inline rows."""
        if adding:
            return " ".join(["Added."] + details)
        if not changed and not details:
            return "No fields changed."
        return " ".join(([f"Changed {join_words(changed)}."] if changed else []) + details)

    def log_change(self, obj, message, adding=False):
        """Write the row's history: an addition or a change, in `message`'s words."""
        log_action(obj, models.ADDITION if adding else models.CHANGE, message)

    def response_add(self, obj, data, back):
        """Answer the POST that added `obj` (or a copy, "Save as new"): say so, redirect."""
        flash(f"{self.label} “{obj}” was added.")
        redirect(self.after_save(obj, data, back))

    def response_change(self, obj, data, back):
        """Answer the POST that saved changes to `obj`: say so, redirect."""
        flash(f"{self.label} “{obj}” was saved.")
        redirect(self.after_save(obj, data, back))

    def response_conflict(self, obj, conflict, back):
        """Answer the POST refused because someone else changed the same fields meanwhile:
        theirs and yours side by side (409), and a way to save yours over theirs."""
        return conflict_page(self, conflict, f"this {self.label.lower()}", url(
            "admin_change", model=self.name, ident=obj.get_id(), _back=back))

    def after_save(self, obj, data, back):
        """Where a saved form goes, by the button pressed: another add form, the row again
        ("Save and continue editing", "Save as new"), or the list the user came from."""
        if "_addanother" in data:
            return url("admin_add", model=self.name, _back=back)
        if "_continue" in data or "_saveasnew" in data:
            return url("admin_change", model=self.name, ident=obj.get_id(), _back=back)
        return back_to_list(self, back)

    def render_change_form(self, form, inlines, *, obj, original, adding, back, user):
        """The form page, 400 if it shows errors; the row as text if `user` may only view it."""
        editable = self.permits(user, "add" if adding else "change", original)
        errors = form.errors or form.form_errors or any(rows.has_errors for rows in inlines)
        return render("admin/form", status=400 if errors else 200, spec=self, obj=obj,
                      original=original, form=form, inlines=inlines, adding=adding,
                      editable=editable, back=back, errors=errors, body_class="admin",
                      readonly=self.readonly(user) if editable else None,
                      title=f"Add {self.label.lower()}" if adding else str(obj))


Column = collections.namedtuple("Column", "name label sort numeric")


class CellHtml(str):
    """Text of a cell that the admin built from escaped parts (an image): printed as it is."""
    is_html = True


def display_value(value):
    """A value as a changelist cell shows it: money and counts as people write them."""
    if value is None or isinstance(value, CellHtml):
        return value or ""
    if isinstance(value, peewee.Model):
        return str(value)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, Decimal):
        return format_money(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return format_date(value)
    return str(value)


class AdminConverter(ModelConverter):
    """wtf-peewee's converter, with "required" judged on what was typed (InputRequired):
    "abc" in a price field then says "Not a valid decimal value", not "This field is required";
    and labels in the admin's one case style ("Unit price", not "Unit Price")."""

    def convert(self, model, field, field_args):
        field_args = dict(field_args or {})
        field_args.setdefault("label", models.field_label(field))
        info = super().convert(model, field, field_args)
        if info.field is not None:
            info.field.kwargs["validators"] = [
                validators.InputRequired() if isinstance(v, ValueRequired) else v
                for v in info.field.kwargs.get("validators") or []]
            if issubclass(info.field.field_class, wtforms.fields.SelectFieldBase):
                info.field.kwargs["widget"] = RequiredSelect()
            elif isinstance(field, peewee.DateTimeField):
                info.field.kwargs["widget"] = date_and_time_inputs
        return info

    def handle_foreign_key(self, model, field, **kwargs):
        if field.null:
            kwargs["allow_blank"] = True
        return FieldInfo(field.name, RelatedSelect(model=field.rel_model, **kwargs))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.converters[models.ImageField] = self.handle_image

    def handle_image(self, model, field, **kwargs):
        # Whether a photo is needed is the model's say: a row that has one keeps it.
        kwargs.update(validators=[], filters=[], default=None)
        return FieldInfo(field.name, ImageUploadField(**kwargs))


class RelatedSelect(ModelSelectField):
    """wtf-peewee's select of a related row, with its options read once per request however
    many forms show one (each inline row of a product's tags has a select of every tag)."""

    def get_model(self, pk):
        """The chosen row, or None: also for an id no database could hold (it would raise)."""
        pk = models.parse_key(self.model, pk)
        return super().get_model(pk) if pk is not None else None

    def iter_choices(self):
        if self.allow_blank:
            yield wtf_choice("__None", self.blank_text, self.data is None)
        key = "storefront.options." + self.model.__name__
        if key not in request.environ:
            request.environ[key] = list(self.query.clone())
        for row in request.environ[key]:
            yield wtf_choice(row.get_id(), self.get_label(row), row == self.data)


def date_and_time_inputs(field, **attrs):
    """wtf-peewee's date and time inputs of a moment, each with its own id (its widget gives
    both the field's): the label names the date; the time says what it is itself."""
    date, time = field
    return date(**dict(attrs, id=field.id)) + time(**dict(
        attrs, id=time.id, aria_label=f"{field.label.text} (time)"))


class RequiredSelect(wtforms.widgets.Select):
    """A select that says it is required with aria-required. HTML allows `required` on a
    select only if its first option is an empty placeholder, and ours start with a real row
    (or "__None"); the server judges anyway."""
    validation_attrs = ["disabled"]

    def __call__(self, field, **attrs):
        if field.flags.required:
            attrs.setdefault("aria_required", "true")
        return super().__call__(field, **attrs)


def model_form_for(model, fields, **options):
    """A wtf-peewee form class for `fields` of `model`, with the admin's converter. It
    remembers its model fields: populate() copies those, and only those, onto the row."""
    form = model_form(model, only=fields, converter=form_converter(model), **options)
    form.model_fields = tuple(fields)
    return form


def form_converter(model):
    """The admin's converter for `model`: a picker for every foreign key to a big table."""
    overrides = {}
    for field in model._meta.sorted_fields:
        spec = REGISTRY.get(getattr(field, "rel_model", type).__name__.lower())
        if isinstance(field, peewee.ForeignKeyField) and spec is not None and spec.picker:
            overrides[field.name] = functools.partial(PickerField, field)
    return AdminConverter(overrides=overrides)


def populate(form, obj):
    """Copy the form's model fields onto `obj` (not its many-to-many or password fields)."""
    for name in getattr(form, "model_fields", ()):
        if name in form:
            form[name].populate_obj(obj, name)


def validate_form(form, obj):
    """WTForms' checks, then the model's own rules (models.py) on what the form would save,
    in one round: every error shows at once. A field that failed its own check keeps that
    message only."""
    valid = form.validate()
    trial = type(obj)(**obj.__data__)
    populate(form, trial)
    problems = trial.problems()
    show_errors(form, {name: message for name, message in problems.items()
                       if name not in form or not form[name].errors})
    return valid and not problems


class ImageUploadField(wtforms.Field):
    """An image, uploaded (a model's ImageField): the photo the row has now, and a file input
    to choose another. Each file is checked by models.read_photo(); a bad one is an error of
    this field that names the file and says why, and nothing of the form is saved. No file
    chosen keeps the photo the row has."""
    ACCEPT = "image/jpeg,image/png,image/webp,image/gif"
    row = None          # the row the form edits (show_files()), for its photo

    def process_formdata(self, valuelist):
        upload = next((v for v in valuelist if isinstance(v, bottle.FileUpload)), None)
        if upload is None:
            return      # the row's photo stays (self.data, from the row)
        self.data = None
        name = re.split(r"[\\/]", upload.raw_filename)[-1][:100]    # a path, from old browsers
        upload.file.seek(0)
        try:
            self.data = models.read_photo(upload.file.read(models.PHOTO_MAX_BYTES + 1), name)
        except models.ValidationError as error:
            raise ValueError(error.errors["photo"]) from None

    def __call__(self, **attrs):
        attrs.pop("required", None)
        params = wtforms.widgets.html_params(type="file", id=self.id, name=self.name,
                                             accept=self.ACCEPT, **attrs)
        now = ""
        image = self.row if self.row is not None and self.row.get_id() else None
        if image is not None and image.photo and not isinstance(image.photo, models.Photo):
            width, height = image.size("thumb")
            now = (f'<img class="admin-thumb" src="{photo_url(image, "thumb")}" alt="" '
                   f'width="{width}" height="{height}">')
        again = (f'<span class="hint">Choose {bottle.html_escape(self.data.name)} again: it '
                 f'was fine, but the form was not saved.</span>'
                 if isinstance(self.data, models.Photo) else "")
        return f'<span class="inline-photo">{now}<input {params}>{again}</span>'


def show_files(form, row):
    """Tell the form's file fields which row they edit, to show the file it has now."""
    for field in form:
        if isinstance(field, ImageUploadField):
            field.row = row
    return form


class PickerField(wtforms.Field):
    """A foreign key typed as an id, with a search-as-you-type box (static/js/admin.js)."""

    def __init__(self, model_field, label=None, validators=None, allow_blank=None, **kwargs):
        # An empty box is always allowed to be typed; whether it may stay empty is the
        # model's say (null=True), checked in pre_validate.
        kwargs.pop("filters", None)
        super().__init__(label, validators, **kwargs)
        self.rel_model, self.allow_blank = model_field.rel_model, model_field.null

    def _value(self):
        return "" if self.data is None else str(self.data.get_id())

    def process_formdata(self, valuelist):
        raw = (valuelist[0] if valuelist else "").strip()
        key = models.parse_key(self.rel_model, raw)     # None for what no key can be
        self.data = None if key is None else self.rel_model.get_or_none(
            self.rel_model._meta.primary_key == key)
        if raw and self.data is None:
            raise ValueError(f"There is no {models.nouns(self.rel_model)[0]} with id {raw}.")

    def pre_validate(self, form):
        if self.data is None and not self.allow_blank and not self.process_errors:
            raise wtforms.validators.StopValidation("This field is required.")

    def __call__(self, **attrs):
        spec = REGISTRY.get(self.rel_model.__name__.lower())
        source = url("admin_autocomplete", model=spec.name) if spec else ""
        label = str(self.data) if self.data is not None else ""
        params = wtforms.widgets.html_params(     # aria_label="..." as aria-label="..."
            type="text", inputmode="numeric", id=self.id, name=self.name, value=self._value(),
            class_="picker-id", **{k: v for k, v in attrs.items() if v is not None})
        return (f'<span class="picker" data-autocomplete="{bottle.html_escape(source)}">'
                f'<input {params}><span class="picker-label">{bottle.html_escape(label)}</span>'
                '</span>')


# --- The generic views -----------------------------------------------------------------------

ADMIN_COUNT_LIMIT = 10_000
# A search counts further: its page is picked from its matches, found, counted and sorted in
# one pass (models.Page.among_matches), and 20,000 of them cost about what reading 200,000
# customers does.
ADMIN_SEARCH_COUNT_LIMIT = 20_000
ACTION_CHUNK = 5_000        # rows an action changes in one transaction


def count_limit(params):
    """How far the list of these query parameters counts its rows."""
    return ADMIN_SEARCH_COUNT_LIMIT if params.get("q", "").strip() else ADMIN_COUNT_LIMIT


def model_total(spec):
    """The number of rows of a model: COUNT(*) of a million rows reads them all, so a big
    table's is the database's estimate (models.row_count), and it is cached (and forgotten by
    every write)."""
    return cached("counts", "total:" + spec.name, lambda: models.row_count(spec.model))


def admin_spec(model, verb):
    """The spec for /admin/<model>/, after checking the user may <verb> its rows."""
    spec = REGISTRY.get(model)
    if spec is None:
        abort(404, f"The admin has no model called {model!r}.")
    require(spec, verb)
    return spec


def require(spec, verb, obj=None):
    """403 unless the user may <verb> the rows of `spec` (or this row, `obj`): the one check
    of pages, actions and in-place edits."""
    if not spec.permits(current_user(), verb, obj):
        abort(403, f"You do not have permission to do this ({spec.name}.{verb}).")


def row_link(row):
    """The admin page of any row, if the user may see it there (for the rows a deletion
    names); else None."""
    spec = REGISTRY.get(type(row).__name__.lower())
    return url("admin_change", model=spec.name, ident=row.get_id()) \
        if spec and spec.permits(current_user(), "view") else None


def log_action(obj, action_flag, message=""):
    """Write the admin log (each object's history)."""
    log_event("admin_change", "admin: %s %s %s: %s", current_user().username,
              obj.__class__.__name__, obj.get_id(), message, user_id=current_user().id,
              model=obj.__class__.__name__, object_id=str(obj.get_id()))
    models.AdminLogEntry.create(**log_entry(obj, action_flag, message))


def log_actions(rows, action_flag, message):
    """log_action() for every row of a query (an action on a whole list), 500 rows an insert."""
    log_event("admin_change", "admin: %s %s: %s", current_user().username,
              rows.model.__name__, message, user_id=current_user().id, model=rows.model.__name__)
    for batch in peewee.chunked(rows.iterator(), 500):
        models.AdminLogEntry.insert_many(
            [log_entry(obj, action_flag, message) for obj in batch]).execute()


def log_entry(obj, action_flag, message):
    """The admin log's row for what the user did to `obj`."""
    return {"user": current_user().id, "model": obj.__class__.__name__.lower(),
            "object_id": str(obj.get_id()), "object_repr": str(obj)[:255],
            "action": action_flag, "change_message": message}


@admin.get("/", name="admin_index")
@staff_required
def admin_index():
    """The dashboard: models by area with counts, my recent actions, sales of 30 days."""
    user = current_user()
    areas = {}
    for spec in REGISTRY.values():
        if spec.permits(user, "view"):
            areas.setdefault(spec.area, []).append((spec, model_total(spec)))
    # Django's "My actions": the viewer's own, on the models they may still open.
    visible = [spec.name for specs in areas.values() for spec, _ in specs]
    recent = list(models.AdminLogEntry.select()
                  .where((models.AdminLogEntry.user == user)
                         & models.AdminLogEntry.model.in_(visible))
                  .order_by(models.AdminLogEntry.action_time.desc(),
                            models.AdminLogEntry.id.desc())
                  .limit(10))
    return render("admin/index", areas=areas, recent=recent, days=models.daily_sales(30),
                  title="Administration", body_class="admin")


@admin.get("/<model>", name="admin_changelist_slash")
@staff_required
def changelist_without_slash(model):
    """/admin/product is /admin/product/ (Django's APPEND_SLASH)."""
    redirect(back_to_list(admin_spec(model, "view"), request.query_string), 301)


@admin.route("/<model>/", ["GET", "POST"], name="admin_changelist")
@staff_required
def changelist(model):
    """The rows of a model: columns, sort, search, filters, dates, pages, in-place edits."""
    spec = admin_spec(model, "view")
    cl = ChangeList(spec, request.query.decode())
    user, errors = current_user(), {}
    if request.method == "POST":
        require(spec, "change")
        try:
            errors = save_list_edits(spec)
        except EditConflict as conflict:
            return conflict_page(spec, conflict, f"these {spec.plural.lower()}",
                                 back_to_list(spec, request.query_string))
        if not errors:
            redirect(back_to_list(spec, request.query_string))
    page = changelist_page(cl)
    spec.prepare_rows(page.items)
    edit_forms = {row.get_id(): list_edit_form(spec, row) for row in page.items} \
        if spec.list_editable and spec.permits(user, "change") else {}
    edit_forms.update((ident, form) for ident, form in errors.items() if ident in edit_forms)
    return render("admin/changelist", status=400 if errors else 200, spec=spec, cl=cl,
                  page=page, total=model_total(spec), edit_forms=edit_forms,
                  actions=spec.allowed_actions(user), title=spec.plural, body_class="admin")


def changelist_page(cl):
    """The page of the list that ?page= asks for; with ?all=1, every row on one page when
    there are no more than the spec's list_max_show_all."""
    spec = cl.spec
    if cl.show_all:
        page = paginate(cl.query, spec.list_max_show_all, count_limit=spec.list_max_show_all,
                        counted=cl.rows, searched=bool(cl.q))
        if page.total is not None:
            return page
    return paginate(cl.query, spec.list_per_page, count_limit=count_limit(cl.params),
                    counted=cl.rows, searched=bool(cl.q))


def list_edit_form(spec, row, data=None):
    """The form of one changelist row's editable columns, its inputs named row-<id>-<field>."""
    if spec._list_form_class is None:
        spec._list_form_class = model_form_for(spec.model, spec.list_editable)
    form = spec._list_form_class(data, obj=row, prefix=f"row-{row.get_id()}-")
    form.edit = RowEdit(form, row, data, where=str(row))
    return form


def save_list_edits(spec):
    """Save the changelist's editable columns, all or nothing; return {id: form} with errors.
    Each row's save writes the columns the user changed, and EditConflict refuses them all
    if someone else has changed one of those since the list was shown."""
    data, errors, edits = form_data(), {}, []
    ids = [models.parse_id(i) for i in data.getall("_row")]
    pk = spec.model._meta.primary_key
    # In the order of their keys: rows are locked in that order, by every list edit alike.
    rows = spec.model.select().where(pk.in_([i for i in ids if i][:spec.list_max_show_all]))
    for row in rows.order_by(pk):
        form = list_edit_form(spec, row, data)
        if not validate_form(form, row):
            errors[row.get_id()] = form
        elif form.edit.edits:
            edits.append(form.edit)
    if not errors:
        with models.write_transaction():
            refuse_conflicts(edits)
            for edit in edits:
                message = f"Changed {join_words(edit.labels())}."
                edit.apply()
                edit.row.save()
                log_action(edit.row, models.CHANGE, message)
        noun = spec.label if len(edits) == 1 else spec.plural
        flash(f"Saved {len(edits)} {noun.lower()}.")
    return errors


def selected_rows(spec, data):
    """The rows an action is asked to act on, as a subquery of their keys: the ticked ones
    (_selected), or with select_across=1 every row of the list the form came from (its
    search and filters are in _back)."""
    pk = spec.model._meta.primary_key
    if data.get("select_across") == "1":
        params = dict(urllib.parse.parse_qsl(data.get("_back", "")))
        return ChangeList(spec, params).selection
    ids = [k for k in (models.parse_key(spec.model, i)
                       for i in data.getall("_selected")[:spec.list_max_show_all])
           if k is not None]
    return spec.model.select(pk).where(pk.in_(ids))


@admin.post("/<model>/actions", name="admin_action")
@staff_required
def run_action(model):
    """Run an action on the selected rows (or all the list's rows), after a confirmation
    page that says how many rows it will touch."""
    data = form_data()
    spec = admin_spec(model, "view")
    name = data.get("action", "")
    if name not in spec.action_names():
        abort(400, f"There is no action {name!r} for {spec.plural.lower()}.")
    method, label = getattr(spec, name), spec.action_label(name)
    require(spec, method.permission)
    back, pk = data.get("_back", ""), spec.model._meta.primary_key
    keys = spec.permitted(current_user(), method.permission, selected_rows(spec, data))
    chosen = models.selected_by(keys)
    # The keys counted up to the list's limit, and the first few shown, each from the keys'
    # own query: "id IN (the keys)" would gather a million keys before the first row.
    limit = count_limit(dict(urllib.parse.parse_qsl(back)))
    count = models.count_up_to(keys, limit)
    if not count:
        flash("Select at least one row first.", "error")
        redirect(back_to_list(spec, back))
    plan = method.plan(spec.model, chosen, count_limit=limit) if method.plan else None
    if not data.get("confirm") or (plan and plan["protected"]):
        sample = list(models.with_parents(spec.model).where(
            pk.in_(keys.order_by(pk).limit(50))).order_by(pk))
        ids = [] if data.get("select_across") == "1" else [obj.get_id() for obj in
                                                             spec.model.select(pk).where(chosen)]
        return render("admin/confirm", spec=spec, sample=sample, count=count, ids=ids,
                      action=name, label=label, plan=plan, back=back, row_link=row_link,
                      title=label, body_class="admin",
                      status=409 if plan and plan["protected"] and data.get("confirm") else 200)
    changed = act_on(spec, method, label, keys)
    flash(f"{label}: {changed:,} row{'' if changed == 1 else 's'} changed.")
    redirect(back_to_list(spec, back))


def act_on(spec, method, label, keys):
    """Run the action `method` on the rows of `keys`, each one logged: how many it changed.
    A transaction a chunk of rows, so that the shop's other writes (a checkout) wait for one
    chunk, not for all of them. (200,000 orders marked complete on SQLite, where writes take
    turns: 25 s in one transaction, and every write meanwhile failed after its 5 s wait; in
    chunks, 27 s, and none waited over 2 s.)"""
    changed, pk = 0, spec.model._meta.primary_key
    for chunk in models.key_chunks(keys, ACTION_CHUNK):
        with models.write_transaction():
            rows = pk.in_(chunk)
            log_actions(models.with_parents(spec.model).where(rows), method.logged_as,
                        f"{label}.")
            changed += method(spec.model.select().where(rows))
    return changed


@admin.route("/<model>/add", ["GET", "POST"], name="admin_add",
             files=5 * models.PHOTO_MAX_BYTES)   # five photos a save
@admin.route("/<model>/<ident>/", ["GET", "POST"], name="admin_change",
             files=5 * models.PHOTO_MAX_BYTES)
@staff_required
def change_form(model, ident=None):
    """Add or change one row: the model's spec does it, step by step (changeform_view)."""
    spec = admin_spec(model, "add" if ident is None else "view")
    return spec.changeform_view(ident)


@admin.route("/<model>/<ident>/delete", ["GET", "POST"], name="admin_delete")
@staff_required
def delete_view(model, ident):
    """Confirm, then delete one row with its dependents, unless a protected relation forbids.
    The page names what goes with it, what loses its link to it, and what protects it."""
    spec = admin_spec(model, "delete")
    obj = get_or_404(spec.model.select(), ident)
    require(spec, "delete", obj)
    this_row = spec.model._meta.primary_key == obj.get_id()
    plan = models.deletion_plan(spec.model, this_row, count_limit=ADMIN_COUNT_LIMIT)
    if request.method == "POST" and not plan["protected"]:
        with models.write_transaction():
            log_action(obj, models.DELETION, "Deleted.")
            models.delete_rows(spec.model, this_row)
        flash(f"{spec.label} “{obj}” was deleted.")
        redirect(back_to_list(spec, form_data().get("_back", "")))
    return render("admin/delete", status=409 if plan["protected"] and request.method == "POST"
                  else 200, spec=spec, obj=obj, plan=plan, row_link=row_link,
                  body_class="admin", back=request.query.get("_back", ""), title=f"Delete {obj}")


@admin.get("/<model>/<ident>/history", name="admin_history")
@staff_required
def history(model, ident):
    """Every admin change of one row, newest first."""
    spec = admin_spec(model, "view")
    obj = get_or_404(spec.model.select(), ident)
    entries = list(models.AdminLogEntry.select(models.AdminLogEntry, User)
                   .join(User, JOIN.LEFT_OUTER)
                   .where((models.AdminLogEntry.model == spec.name)
                          & (models.AdminLogEntry.object_id == str(obj.get_id())))
                   .order_by(models.AdminLogEntry.action_time.desc(),
                             models.AdminLogEntry.id.desc()))
    return render("admin/history", spec=spec, obj=obj, entries=entries, body_class="admin",
                  title=f"History of {obj}")


@admin.get("/<model>/export.csv", name="admin_export")
@staff_required
def export_csv(model):
    """The current changelist (same search, filters and sort) as CSV, streamed in chunks."""
    spec = admin_spec(model, "view")
    query = ChangeList(spec, request.query.decode()).query
    pk = spec.model._meta.primary_key.name
    columns = [c for c in spec.columns()
               if c.name != pk and getattr(getattr(spec, c.name, None), "exported", True)] + [
        Column(name, spec.field_label(name), None, False) for name in spec.export_fields]

    def chunks():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([pk] + [c.label for c in columns])
        for line in export_lines(spec, query, columns):
            writer.writerow(line)
            if buffer.tell() > 16_384:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    response.content_type = "text/csv; charset=utf-8"
    response.set_header("Content-Disposition", f'attachment; filename="{spec.name}s.csv"')
    return chunks()


def csv_text(value):
    """A value as an exported cell: numbers, dates and moments as they are (a spreadsheet reads
    them as numbers and dates), Yes or No, and text that cannot start a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, (int, float, Decimal, datetime.date, datetime.time)):
        return str(value)
    return formula_safe(str(value))


def formula_safe(text):
    """Text a spreadsheet shows as it is: one starting with = + - @ (or a tab or a return before
    one) would run as a formula, so it gets the apostrophe a spreadsheet itself puts there."""
    return "'" + text if text and text[0] in models.FORMULA_STARTS else text


EXPORT_BATCH = 2_000        # rows read and made text together


def export_lines(spec, query, columns):
    """The export's lines, each (key, the text of each column), read as they are written.
    When every column is a field, the rows come as tuples of the database's values, a batch at a
    time, and each column of a batch becomes text at once, the way its field says: 200,000
    orders are a million cells, and a number, a moment or a choice then takes no line of
    Python of its own."""
    fields = [spec.model._meta.fields.get(c.name) for c in columns]
    if any(field is None for field in fields):      # a computed column reads the row
        for row in query.iterator():
            yield [csv_text(row.get_id())] + [csv_text(spec.value(row, c.name)) for c in columns]
        return
    pk = spec.model._meta.primary_key
    selected, plan = [pk], [(0, 1, _as_text(pk))]      # (where, how many values, how)
    for field in fields:
        at = len(selected)
        if isinstance(field, peewee.ForeignKeyField):
            related = field.rel_model._meta.sorted_fields
            selected += related
            plan.append((at, len(related), _name_of(field.rel_model, related)))
        else:
            selected.append(field)
            plan.append((at, 1, _as_text(field)))
    rows = iter(models.stream_rows(query.select(*selected)))
    for batch in iter(lambda: list(itertools.islice(rows, EXPORT_BATCH)), []):
        values = list(zip(*batch))      # the batch's columns
        cells = []
        for at, width, convert in plan:
            column = values[at] if width == 1 else zip(*values[at:at + width])
            cells.append(column if convert is None else map(convert, column))
        yield from zip(*cells)


# The fields whose values the csv module writes as they come from the database: numbers and
# moments (as text on SQLite, the str() of a datetime on PostgreSQL), None as an empty cell.
WRITTEN_AS_THEY_COME = (peewee.IntegerField, peewee.AutoField, peewee.DateTimeField,
                        peewee.DateField, peewee.TimeField)


def _as_text(field):
    """How a database value of `field` becomes a cell, chosen once for its column: as it comes
    (None), a choice by its label, text made safe, an amount with its two places."""
    if field.choices:
        labels = {value: csv_text(label) for value, label in field.choices}
        python_value = field.python_value
        return lambda value: labels[value] if value in labels else csv_text(python_value(value))
    if isinstance(field, peewee.BooleanField):
        return {None: "", False: "No", True: "Yes"}.__getitem__     # (0 and 1 on SQLite too)
    if isinstance(field, WRITTEN_AS_THEY_COME):
        return None
    if isinstance(field, (peewee.CharField, peewee.TextField)):
        return formula_safe
    if isinstance(field, models.MoneyField) and not field.null:
        return "{:.2f}".format
    python_value = field.python_value
    return lambda value: csv_text(python_value(value))


def _name_of(model, fields):
    """How the columns of a related row become its name. One row object serves every line:
    its name is read at once."""
    row, names = model(__no_default__=True), [field.name for field in fields]

    def name(values):
        if values[0] is None:       # no related row
            return ""
        row.__data__ = dict(zip(names, values))
        return formula_safe(str(row))
    return name


# --- Importing products from a spreadsheet ---------------------------------------------------
#
# Upload a CSV with the export's columns (POST .../import), see what each row would do (GET
# .../import/<id>: the file is kept in the database meanwhile, models.ProductImport), confirm
# (POST .../import/<id>): models.py applies it in one transaction, if the products are still
# as the preview showed them; if not, the preview is shown again as things now are.

@admin.route("/product/import", ["GET", "POST"], name="admin_product_import",
             files=models.IMPORT_MAX_BYTES)
@staff_required
def product_import():
    """The upload form; a file whose encoding or columns cannot work is refused here."""
    spec, error = admin_spec("product", "import"), None
    if request.method == "POST":
        upload = request.files.get("file")
        try:
            if upload is None or not upload.raw_filename:
                raise models.ImportRefused("Choose a CSV file to import.")
            stored = models.store_import(current_user(), upload.raw_filename,
                                         upload.file.read(models.IMPORT_MAX_BYTES + 1))
        except models.ImportRefused as refused:
            error = str(refused)
        else:
            redirect(url("admin_product_import_preview", ident=stored.id))
    return render("admin/import", status=400 if error else 200, spec=spec, error=error,
                  title="Import products", body_class="admin")


@admin.route("/product/import/<ident>", ["GET", "POST"], name="admin_product_import_preview")
@staff_required
def product_import_preview(ident):
    """Every row of an uploaded file as new, changed (how), unchanged or an error; a POST
    applies it all, or shows the preview again if the products changed since (409)."""
    spec, user = admin_spec("product", "import"), current_user()
    stored = get_or_404(models.ProductImport.select().where(models.ProductImport.user == user),
                        ident)
    stale = False
    if request.method == "POST":
        try:
            plan = models.import_products(stored, import_checker(),
                                          form_data().get("fingerprint", ""), user)
        except models.ImportStale as refused:
            plan, stale = refused.plan, True
        else:
            flash("Imported {new:,} new and {changed:,} changed products ({unchanged:,} "
                  "unchanged).".format(**plan.counts))
            redirect(url("admin_changelist", model="product"))
    else:
        plan = models.plan_import(stored, import_checker())
    return render("admin/import_preview", status=409 if stale else 200, spec=spec,
                  stored=stored, plan=plan, stale=stale, show=import_value,
                  title="Import products: preview", body_class="admin")


def import_checker():
    """check(texts, product) for models.plan_import: a row's texts ({field: text}) judged by
    the admin's own product form, its checks and the model's rules, as if typed into it:
    ({field: value}, {field: message}). One form is filled anew for each row: making a form
    costs more than all the rest an import does with a row."""
    form = REGISTRY["product"].form_class()()
    del form["collection"]          # the import finds it by name (models.plan_import)

    def check(texts, product):
        form.process(bottle.MultiDict(texts))
        form.form_errors = []
        validate_form(form, product or Product())
        errors = {name: messages[0] for name, messages in form.errors.items()}  # None: form's
        return {name: form[name].data for name in texts if name in form}, errors
    return check


def import_value(plan, name, value):
    """A value of the preview as a person reads it: a collection's name, money as money."""
    if name == "collection":
        return str(plan.collections.get(value, value))
    return display_value(value)


@admin.get("/<model>/autocomplete", name="admin_autocomplete")
@staff_required
def autocomplete(model):
    """JSON for the foreign-key pickers: [{"id": ..., "text": ...}], 20 at most."""
    spec = admin_spec(model, "view")
    rows = spec.lookup(request.query.getunicode("q", "").strip()[:100], 20)
    return json_response({"results": [{"id": str(r.get_id()), "text": str(r)} for r in rows]})


@admin.get("/<model>/<ident>", name="admin_change_slash")
@staff_required
def change_form_without_slash(model, ident):
    """/admin/product/1 is /admin/product/1/. (Declared after /add, /export.csv and
    /autocomplete, which the router tries first.)"""
    spec = admin_spec(model, "view")
    redirect(url("admin_change", model=spec.name, ident=ident), 301)


@admin.route("/user/<ident>/password", ["GET", "POST"], name="admin_set_password")
@staff_required
def set_password(ident):
    """Set another user's password (the user admin's change permission)."""
    spec = admin_spec("user", "change")
    user = get_or_404(User.select(), ident)
    require(spec, "change", user)     # the row's own rule: only a superuser sets a superuser's
    form = form_from_request(NewPasswordForm, owner=user)
    if request.method == "POST" and form.validate():
        user.set_password(form.password.data)
        user.save()
        password_changed(user)      # their sessions are logged out; if it is you, not this one
        log_action(user, models.CHANGE, "Changed password.")
        flash(f"The password of {user.username} was changed.")
        redirect(url("admin_change", model="user", ident=user.id))
    return render("admin/password", status=400 if form.errors else 200, spec=spec, obj=user,
                  form=form, body_class="admin", title=f"Set the password of {user.username}")


# --- The specs of the shop -------------------------------------------------------------------

@register
class ProductAdmin(ModelAdmin):
    model = Product
    list_display = ("title", "main_photo", "unit_price", "price", "inventory", "stock",
                    "collection", "last_update")
    list_editable = ("unit_price",)
    search_fields = ("title", "=id")
    list_filter = ("collection", Choice("stock", "Stock", [
        ("low", f"Low (under {Product.LOW_STOCK})", Product.stock_is("low")),
        ("out", "Out of stock", Product.stock_is("out"))]),
        Range("unit_price", "Price"), Range("last_update", "Last update"))
    ordering = ("title",)
    picker = True
    fieldsets = ((None, {"fields": ("title", "slug", "collection", "description")}),
                 ("Price and stock", {"fields": ("unit_price", "price", "inventory",
                                                 "last_update")}),
                 ("Promotions", {"fields": ("promotions",), "collapse": True}))
    readonly_fields = ("price", "last_update")
    many_to_many = {"promotions": models.ProductPromotion}
    prepopulated = {"slug": "title"}
    inlines = (Inline(models.ProductImage, fields=("photo", "alt", "position"), extra=1,
                      max_num=10, label="Photos (the first is the main photo)",
                      ordering=("position", "id")),
               Inline(models.TaggedItem, fields=("tag",), noun="tag"))
    actions = ("clear_inventory",)
    save_as = True
    can_import = True           # /admin/product/import: see "Importing products" above
    export_fields = ("slug", "description")     # so that an export imports back as it was

    @column("Stock", sort=Product.inventory)
    def stock(self, row):
        return row.stock[1]

    @column("Photo", exported=False)
    def main_photo(self, row):
        return thumbnail(row.photo)

    def prepare_rows(self, rows):
        return models.attach_photos(rows)

    def object_tools(self, obj):
        return [("View in shop", url("product", product_id=obj.id))]

    def search(self, query, q):
        """The shop's full-text index, as the catalog searches (every word, prefixes, phrases,
        the title and the description); a number alone also finds the product with that id
        (added to the list of ids: "id IN (...) OR id = n" would read every product)."""
        ident = models.parse_id(q)
        if ident is None:
            return Product.search(query, q)
        return query.where(Product.id.in_(Product.best_matches(q) + [ident]))

    @action("Clear inventory of the selected products")
    def clear_inventory(self, query):
        return Product.update(inventory=0, last_update=models.utcnow()).where(
            Product.id.in_(query.select(Product.id))).execute()


def thumbnail(image):
    """A photo as a list shows it, small (nothing without one)."""
    if image is None:
        return CellHtml()
    width, height = image.size("thumb")
    return CellHtml(f'<img class="admin-thumb" src="{photo_url(image, "thumb")}" width="{width}" '
                f'height="{height}" alt="{bottle.html_escape(image.alt)}" loading="lazy">')


@register
class ProductImageAdmin(ModelAdmin):
    model = models.ProductImage
    list_display = ("alt", "thumb", "product", "position")
    search_fields = ("alt",)
    ordering = ("product", "position")
    fields = ("product", "photo", "alt", "position")

    @column("Photo", exported=False)
    def thumb(self, row):
        return thumbnail(row)


@register
class CollectionAdmin(ModelAdmin):
    model = Collection
    list_display = ("title", "product_count", "featured_product")
    search_fields = ("title",)
    ordering = ("title",)

    def queryset(self):
        # The featured product and the product count, both in the page's own query. (The
        # product is joined by its model, not an alias: sorting by it names the model.)
        products, count, on = models.child_count(Product.collection)
        return (Collection.select(Collection, Product, count.alias("products_n"))
                .join(Product, JOIN.LEFT_OUTER, on=(Collection.featured_product == Product.id))
                .switch(Collection).join(products, JOIN.LEFT_OUTER, on=on))

    @column("Products", sort=SQL("products_n"), numeric=True,
            link=lambda row: url("admin_changelist", model="product", collection=row.id))
    def product_count(self, row):
        return row.products_n


@register
class PromotionAdmin(ModelAdmin):
    model = Promotion
    list_display = ("description", "discount", "starts_on", "ends_on", "applies_today")
    search_fields = ("description",)
    ordering = ("description",)

    @column("Applies today")
    def applies_today(self, row):
        return row.is_current


@register
class CustomerAdmin(ModelAdmin):
    model = Customer
    area = "Customers"
    list_display = ("first_name", "last_name", "email", "membership", "orders")
    list_editable = ("membership",)
    search_fields = ("^first_name", "^last_name", "email")
    list_filter = ("membership",)
    ordering = ("last_name", "first_name")
    picker = True
    fieldsets = ((None, {"fields": ("first_name", "last_name", "email", "phone", "birth_date")}),
                 ("Membership and account", {"fields": ("membership", "user")}))
    inlines = (Inline(models.Address, fields=("street", "city", "zip"),
                      extra=1, label="Addresses"),)

    def search(self, query, q):
        """ModelAdmin's search, among the candidates that the index of the customers'
        trigrams finds first, where there is one (Customer.candidates)."""
        candidates = Customer.candidates(q)
        return super().search(query if candidates is None else query.where(candidates), q)

    @column("Orders", sort=Customer.order_count, numeric=True,
            link=lambda row: url("admin_changelist", model="order", customer=row.id))
    def orders(self, row):
        return row.order_count      # kept by the database (models.KEPT_SUMS)


@register
class AddressAdmin(ModelAdmin):
    model = models.Address
    area = "Customers"
    list_display = ("street", "city", "zip", "customer")
    search_fields = ("street", "city", "zip")


@register
class OrderAdmin(ModelAdmin):
    model = Order
    area = "Orders"
    list_display = ("id", "placed_at", "customer", "payment_status", "total")   # total: kept
                                                            # by the database (models.KEPT_SUMS)
    search_fields = ("=id",)
    list_filter = ("payment_status", Range("placed_at", "Placed"), "customer")
    date_hierarchy = "placed_at"
    ordering = ("-placed_at",)
    readonly_fields = ("placed_at",)
    picker = True
    inlines = (Inline(OrderItem, fields=("product", "quantity", "unit_price"),
                      label="Items", min_num=1),)
    actions = ("mark_complete", "mark_failed")

    @action("Mark the selected orders complete")
    def mark_complete(self, query):
        return self.set_status(query, "C")

    @action("Mark the selected orders failed")
    def mark_failed(self, query):
        return self.set_status(query, "F")

    def set_status(self, query, status):
        """Give the chosen orders `status`; the customer of each order it changes is told."""
        chosen = [i for (i,) in query.select(Order.id).where(Order.payment_status != status)
                  .tuples()]
        ids = []        # those it changes: not one another admin has changed meanwhile
        for start in range(0, len(chosen), 500):    # bounded IN lists, however many rows
            ids += [i for (i,) in Order.update(payment_status=status)
                    .where(Order.id.in_(chosen[start:start + 500])
                           & (Order.payment_status != status))
                    .returning(Order.id).tuples().execute()]
        tell_of_orders(ids, status)
        return len(ids)

    def save_model(self, form, obj, adding):
        """Save the order; a payment status changed to complete or failed is told to the
        customer, once the save has committed."""
        super().save_model(form, obj, adding)
        status = form.edit.edits.get("payment_status") if form.edit else None
        if status in ("C", "F"):
            tell_of_orders([obj.id], status)


@register
class OrderItemAdmin(ModelAdmin):
    model = OrderItem
    area = "Orders"
    list_display = ("order", "product", "quantity", "unit_price")
    search_fields = ("=order",)


@register
class CartAdmin(ModelAdmin):
    model = models.Cart
    area = "Orders"
    list_display = ("id", "created_at")
    ordering = ("-created_at",)
    readonly_fields = ("created_at",)
    picker = True
    list_filter = (Range("created_at", "Created"),)
    date_hierarchy = "created_at"
    inlines = (Inline(models.CartItem, fields=("product", "quantity"), label="Items"),)


@register
class CartItemAdmin(ModelAdmin):
    model = models.CartItem
    area = "Orders"
    list_display = ("cart", "product", "quantity")


@register
class TagAdmin(ModelAdmin):
    model = models.Tag
    list_display = ("label",)
    search_fields = ("label",)
    ordering = ("label",)


@register
class TaggedItemAdmin(ModelAdmin):
    model = models.TaggedItem
    list_display = ("tag", "content_type", "object_id")
    list_filter = ("tag",)


@register
class LikedItemAdmin(ModelAdmin):
    model = models.LikedItem
    area = "Accounts"
    list_display = ("user", "content_type", "object_id")


class UserAddForm(NewPasswordForm):
    """The two password fields of the add-user form; the spec adds the account's fields."""

    def __init__(self, formdata=None, **kwargs):
        super().__init__(formdata, **kwargs)
        self.password.label.text, self.confirm.label.text = "Password", "Password again"


class SuperusersOwn(ModelAdmin):
    """Rows that are a superuser's (their account, their tokens) only a superuser changes or
    deletes: a new email address, then a password reset, would hand a superuser's powers to
    whoever changed it. superusers(obj) says whether a row is one; superusers() which are."""

    def permits(self, user, verb, obj=None):
        if obj is not None and self.superusers(obj) and not user.is_superuser \
                and verb in ("change", "delete"):
            return False
        return super().permits(user, verb, obj)

    def permitted(self, user, verb, selection):
        if user.is_superuser or verb not in ("change", "delete"):
            return selection
        return selection.where(~self.superusers())


@register
class UserAdmin(SuperusersOwn):
    model = User
    area = "Accounts"
    list_display = ("username", "email", "first_name", "last_name", "is_staff", "is_active")
    picker = True
    search_fields = ("^username", "email", "^first_name", "^last_name")
    list_filter = ("is_staff", "is_superuser", "is_active")
    ordering = ("username",)
    fieldsets = ((None, {"fields": ("username", "email")}),
                 ("Personal info", {"fields": ("first_name", "last_name")}),
                 ("Permissions", {
                     "fields": ("is_active", "is_staff", "is_superuser", "groups", "permissions"),
                     "description": "Only a superuser can make someone staff or a superuser, "
                                    "or grant groups and permissions."}),
                 ("Dates", {"fields": ("last_login", "date_joined"), "collapse": True}))
    # The add form asks for the password twice (Django's UserCreationForm).
    add_fieldsets = ((None, {"fields": ("username", "email", "password", "confirm")}),) \
        + fieldsets[1:3]
    add_form = UserAddForm
    readonly_fields = ("date_joined", "last_login")
    # Whoever may set these can give themselves any power: only a superuser may.
    superuser_fields = ("is_staff", "is_superuser", "groups", "permissions")
    many_to_many = {"groups": models.UserGroup}
    permissions_through = models.UserPermission

    def superusers(self, obj=None):
        return User.is_superuser if obj is None else obj.is_superuser

    def save_model(self, form, obj, adding):
        if adding:
            obj.set_password(form.password.data)
        super().save_model(form, obj, adding)

    def object_tools(self, obj):
        return [("Set password", url("admin_set_password", ident=obj.id))]


@register
class GroupAdmin(ModelAdmin):
    model = models.Group
    area = "Accounts"
    list_display = ("name",)
    search_fields = ("name",)
    ordering = ("name",)
    permissions_through = models.GroupPermission
    superuser_fields = ("permissions",)


@register
class ApiTokenAdmin(SuperusersOwn):
    """Anyone's API tokens, for staff with the permission. A new token is shown once, on the
    page its add form leads to. A superuser's tokens are a superuser's to make and change."""
    model = models.ApiToken
    area = "Accounts"
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "expires_at",
                    "revoked")
    list_filter = ("revoked",)
    search_fields = ("name", "=prefix")
    ordering = ("-created_at",)
    fields = ("user", "name", "expires_at", "revoked")
    readonly_fields = ("prefix", "created_at", "last_used_at")
    actions = ("revoke_selected",)

    def superusers(self, obj=None):
        if obj is not None:
            return obj.user.is_superuser
        return models.ApiToken.user.in_(User.select(User.id).where(User.is_superuser))

    @action("Revoke the selected tokens")
    def revoke_selected(self, query):
        return models.ApiToken.update(revoked=True).where(
            models.ApiToken.id.in_(query.select(models.ApiToken.id))).execute()

    def save_model(self, form, obj, adding):
        if adding and obj.user.is_superuser and not current_user().is_superuser:
            raise models.ValidationError({"user": "Only a superuser may make a superuser's "
                                                  "token."})
        if adding:
            obj.token = obj.new_secret()
        super().save_model(form, obj, adding)

    def response_add(self, obj, data, back):
        return render("admin/token", spec=self, obj=obj, token=obj.token, body_class="admin",
                      title=f"The token {obj.name}")


@register
class AdminLogEntryAdmin(ModelAdmin):
    model = models.AdminLogEntry
    area = "Accounts"
    list_display = ("action_time", "user", "model", "object_repr", "change_message")
    list_filter = (Range("action_time", "When"),)
    date_hierarchy = "action_time"
    search_fields = ("object_repr", "change_message")
    ordering = ("-action_time",)
    can_add = can_change = can_delete = False


###############################################################################
# 13. Playground
###############################################################################

# The playground teaches the fundamentals of a web app, each lesson a small handler over the
# shop's own data. A lesson page shows four things: the handler's code, the same thing written
# in Django, the SQL the handler ran, and what it returned. ORM lessons add an exercise, and
# every lesson points at the place in the shop that does the same. Lessons only read: those
# about writing do it in a transaction they roll back, and the caching lessons have a cache
# region of their own. At the end of this part, the guided tour follows one request through
# the code that serves it.
#
# What a page says around the code is data, beside the templates: the lessons' titles, Django
# code and comparisons in views/playground/lessons-*.toml (a file per group of lessons, in the
# order of the index), the tour's stops in views/playground/tour.toml. Here is only what runs.

def playground_text(name):
    """views/playground/<name>.toml, read. Prose may wrap there: a line break is a space."""
    import tomllib      # (only the playground reads TOML)
    with open(os.path.join(VIEWS, "playground", name + ".toml"), "rb") as f:
        data = tomllib.load(f)
    return fold(data)


def fold(value, key=""):
    """Prose with its lines joined into one; code (a key named django) kept as it is."""
    if isinstance(value, dict):
        return {k: fold(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [fold(v, key) for v in value]
    if isinstance(value, str) and key != "django":
        return " ".join(value.split())
    return value


LESSON_GROUPS = [playground_text(name.removesuffix(".toml")) for name in sorted(
    os.listdir(os.path.join(VIEWS, "playground"))) if name.startswith("lessons-")]
LESSON_TEXT = {text["path"]: dict(text, group=group["title"], library=group["library"])
               for group in LESSON_GROUPS for text in group["lessons"]}     # path -> its text
LESSONS = []    # in the order of the index


class Lesson:
    """One lesson, made by @lesson: its handler, and its text from its group's file."""

    def __init__(self, handler, path, lives_in, queries, link=None, post=False):
        if path not in LESSON_TEXT:
            raise LookupError(f"No text for the lesson {path!r} in views/playground/")
        text = LESSON_TEXT[path]
        self.handler, self.path, self.group, self.library = (
            handler, path, text["group"], text["library"])
        self.title, self.summary, self.differs = text["title"], text["summary"], text["differs"]
        self.django = text["django"].strip()
        self.question = text.get("exercise")    # its answer: set by @exercise
        self.button = text["button"] if post else None     # a POST to itself
        self.lives_in = lives_in    # the place in the shop that does the same
        self.queries = queries      # how many SQL statements a GET runs: the page says so
        self.link = link or {}      # the arguments of a path with parameters, for the index
        self.name = "lesson_" + handler.__name__.removesuffix("_lesson")
        self.answer = None

    def href(self):
        return url(self.name, **self.link)

    def page(self, **args):
        """Run the lesson (and its exercise's answer), and show the four parts."""
        current_user()      # who you are is the page's business: not counted in the lesson's SQL
        run = run_lesson_code(self.handler, **args)
        answer = run_lesson_code(self.answer) if self.answer else None
        n = LESSONS.index(self)
        return render("playground/lesson", lesson=self, run=run, answer=answer,
                      lives_in=code_reference(self.lives_in), title=self.title,
                      description=self.summary,
                      previous=LESSONS[n - 1] if n else None,
                      following=LESSONS[n + 1] if n + 1 < len(LESSONS) else None,
                      route=request.route, Html=Html, Link=Link)


def lesson(path, *, lives_in, queries, link=None, post=False):
    """Register the handler below as the lesson at /playground/<path>, whose text is the entry
    of that path in views/playground/lessons-*.toml. `lives_in` is the place in the shop that
    does the same ("models.py: place_order"), `queries` the number of SQL statements it runs.
    A lesson that `post`s shows a button (its text says what it reads) whose form POSTs to it:
    the handler tells the two methods apart."""
    def register(handler):
        entry = Lesson(handler, path, lives_in, queries, link, post)
        LESSONS.append(entry)

        def page(**args):       # named after the handler, in the table of routes
            return entry.page(**args)
        playground.route("/" + path, ["GET", "POST"] if post else "GET",
                         functools.update_wrapper(page, handler), name=entry.name)
        return handler
    return register


def exercise(lesson_handler):
    """The function below answers the exercise of that lesson: the page runs it behind a
    disclosure, under the question its text asks."""
    def register(answer):
        next(l for l in LESSONS if l.handler is lesson_handler).answer = answer
        return answer
    return register


class Html(str):
    """Markup a lesson made with a template (so escaped already): the page shows it rendered."""


class Link(str):
    """An address in a lesson's result: the page makes it a link."""


def run_lesson_code(function, **args):
    """Call a lesson's handler or answer: its code, the SQL it ran, and what it returned."""
    with capture_queries() as queries:
        result = function(**args)
    return {"code": code_of(function), "queries": queries, "result": result}


def code_of(function):
    """A function's source from its `def` line: the decorators above it are the page's text."""
    source = textwrap.dedent(inspect.getsource(function))
    definition = ast.parse(source).body[0]
    return "\n".join(source.splitlines()[definition.lineno - 1:])


def source_of(function):
    """The code of a function or class as it reads in its file, decorators included."""
    return textwrap.dedent(inspect.getsource(function))


def named(reference):
    """What "models.py: place_order" names: (the module, the thing). A file is this module,
    models.py or a library's module ("bottle.py", "waitress/task.py"); a name may be dotted
    (Product.catalog, PageCache.apply) or a module-level value."""
    import importlib
    filename, _, name = reference.partition(": ")
    module = {"app.py": sys.modules[__name__], "models.py": models}.get(filename) or \
        importlib.import_module(filename.removesuffix(".py").replace("/", "."))
    return module, functools.reduce(getattr, name.split("."), module)


def code_reference(reference, most=14):
    """Where "models.py: place_order" is, read now: {file, name, line, code} with the first
    `most` lines of it."""
    filename, _, name = reference.partition(": ")
    module, target = named(reference)
    if inspect.isfunction(target) or inspect.isclass(target) or inspect.ismethod(target):
        lines, start = inspect.getsourcelines(target)
    else:       # a value such as a dict: the line that assigns it, and those after it
        lines = inspect.getsource(module).splitlines(keepends=True)
        start = next(n for n, line in enumerate(lines, 1) if line.startswith(name + " ="))
        lines = lines[start - 1:start - 1 + most]
    code = textwrap.dedent("".join(lines[:most])).rstrip()
    return {"file": filename, "name": name, "line": start,
            "code": code + ("\n…" if len(lines) > most else "")}


@playground.get("/", name="playground")
def lesson_index():
    """The lessons by group, and the tour."""
    groups = [(group["title"], [l for l in LESSONS if l.group == group["title"]])
              for group in LESSON_GROUPS]
    return render("playground/index", groups=groups, title="Playground")


# --- The web ----------------------------------------------------------------------------------

@lesson("hello", lives_in="app.py: product_detail", queries=0)
def say_hello():
    template = template_text("playground/hello")
    page = bottle.template("playground/hello", name="World")
    return {"the template, views/playground/hello.tpl": template,
            "what it renders": Html(page)}


def template_text(name):
    """The text of views/<name>.tpl."""
    with open(os.path.join(VIEWS, name + ".tpl"), encoding="utf-8") as f:
        return f.read()


@lesson("urls/<name>/<number:int>", lives_in="app.py: url", queries=0,
        link={"name": "ada", "number": 42})
def url_mapping_lesson(name, number):
    here = url("lesson_url_mapping", name=name, number=number)     # the route's name
    other = url("lesson_url_mapping", name="grace", number=7)
    mounted = {app.config["_mount.prefix"]: f"{len(app.routes)} routes"
               for app in (accounts, admin, api, playground)}
    return {"name": name, "number": number,
            "the type of number": type(number).__name__,
            "this address, built back by url()": here,
            "try other values": Link(other),
            "a number that is not one: no route matches (404)": Link(other + "x"),
            "the sub-apps, by the prefix they are mounted at": mounted}


@lesson("templates", lives_in="app.py: render", queries=1)
def templates_lesson():
    products = list(Product.select().order_by(Product.id).limit(3))
    page = ("% rebase('playground/frame', title='Three products')\n"
            "% for p in products:\n<li>{{p.title}}</li>\n% end\n")
    condition = "% if n > 2:\nmany\n% else:\nfew\n% end"
    layout = template_text("playground/frame")
    return {"a loop, in a layout": bottle.template(page, products=products),
            "the layout, views/playground/frame.tpl": layout,
            "a condition": bottle.template(condition, n=len(products)),
            "{{ }} escapes what it prints": bottle.template(
                "{{comment}}", comment='<script>alert("hi")</script>')}


@lesson("static-files", lives_in="app.py: static", queries=0)
def static_files_lesson():
    found = static("css/base.css")      # the shop's own handler of /static/<path>
    if hasattr(found.body, "close"):    # the open file, for the server (not after a HEAD,
        found.body.close()              # or a request that says it has the file: a 304)
    headers = ("Content-Type", "Content-Length", "Last-Modified", "ETag", "Cache-Control")
    return {"the address of a file": Link(url("static", path="css/base.css")),
            "the address pages use": Link(static_url("css/base.css")),
            "its status": found.status,
            "its headers": {name: found.headers.get(name) for name in headers},
            "a path that climbs out of static/": static("../app.py").status}


@lesson("middleware", lives_in="app.py: debug_toolbar", queries=0)
def middleware_lesson():
    toolbar = settings.debug and is_internal(request.environ)
    return {"middleware() wraps the app": source_of(middleware),
            "one middleware, whole": source_of(with_security_headers),
            "the debug toolbar is on for you": toolbar}


@lesson("sessions", lives_in="app.py: session", queries=0, post=True)
def sessions_lesson():
    if request.method == "POST":
        s = session(create=True)        # reading pages creates none: this button does
        s["lesson_visits"] = s.get("lesson_visits", 0) + 1
        s.save()
        redirect(url("lesson_sessions"))    # Post/Redirect/Get: reloading is harmless
    s = session()
    return {"your session": "none yet" if s is None else f"{s.id[:8]}… (a random id)",
            "what it holds": sorted(s.keys()) if s else [],
            "the counter": s.get("lesson_visits", 0) if s else 0}


@lesson("messages", lives_in="app.py: flash", queries=0, post=True)
def messages_lesson():
    if request.method == "POST":
        flash("Queued by the POST, shown once, after the redirect.")
        redirect(url("lesson_messages"))
    return {"the flash cookie": request.get_cookie(FLASH_COOKIE) or "none",
            "the messages it holds": [text for _, text in _read_flashes()]}


@lesson("authentication", lives_in="models.py: authenticate", queries=0)
def authentication_lesson():
    started = time.perf_counter()
    encoded = models.make_password("correct horse")     # the shop's rounds: slow on purpose
    took = (time.perf_counter() - started) * 1000
    cheap = models.make_password("correct horse", iterations=1000)  # quick to check below
    guarded_page = login_required(lambda: "the page itself")
    try:
        outcome = guarded_page()
    except bottle.HTTPResponse as answer:       # redirect() raises its response
        outcome = f"{answer.status}, to {answer.headers['Location']}"
    return {"the stored hash": encoded, "time to make it": f"{took:.0f} ms",
            "the same password, hashed with 1,000 rounds": cheap,
            "the right password, checked": models.check_password("correct horse", cheap),
            "a wrong one, checked": models.check_password("Correct horse", cheap),
            "a guarded page gives you": outcome}


@lesson("admin-registry", lives_in="app.py: register", queries=1)
def admin_registry_lesson():
    first_rows = ChangeList(REGISTRY["product"], {}).query.limit(3)
    return {"the spec of products": source_of(ProductAdmin),
            "every registered model": list(REGISTRY),
            "the product list's first rows, as the admin queries them":
                [p.title for p in first_rows]}


@lesson("caching", lives_in="app.py: cached", queries=1)
def caching_lesson():
    def slow_report():
        time.sleep(0.1)     # stands in for a heavy query or a call to another service
        return Product.select().count()
    forget("playground", "slow_report")      # the lesson's own region: start cold
    timings = {}
    for attempt in ("first call", "second call"):
        started = time.perf_counter()
        count = cached("playground", "slow_report", slow_report)
        timings[attempt] = f"{(time.perf_counter() - started) * 1000:.1f} ms"
    return dict(timings, **{"the answer (products)": count})


@lesson("page-cache", lives_in="app.py: PageCache", queries=1)
def page_cache_lesson():
    render_page = collection_list      # /collections: the handler (the page cache is a plugin)
    forget("playground", "/collections")
    runs = {}
    for attempt in ("first request", "second request"):
        started = time.perf_counter()
        with capture_queries() as queries:
            html = cached("playground", "/collections", render_page)
        took = (time.perf_counter() - started) * 1000
        runs[attempt] = f"{took:.1f} ms, {len(queries)} SQL queries"
    return dict(runs, **{"the page in the cache": f"{len(html):,} characters"})


@lesson("debug-toolbar", lives_in="app.py: Record.sql_report", queries=6)
def debug_toolbar_lesson():
    panels = LESSON_TEXT["debug-toolbar"]["panels"]      # what each one shows, by its name
    record = Record(request.environ)        # what the toolbar keeps of one request
    with capture_queries() as record.queries:
        orders = Order.select().order_by(Order.id).limit(5)
        names = [order.customer.first_name for order in orders]     # 1 + 5 queries: an N+1
    return {"the toolbar is on for you": settings.debug and is_internal(request.environ),
            "its panels (DEBUG_PANELS), and what each shows":
                {panel: panels[panel] for panel in DEBUG_PANELS},
            "a loop over 5 orders, reading each one's customer": names,
            "its SQL panel: the loop's queries, flagged": [
                {"SQL": q["sql"], "parameters": q["params"],
                 "flag": "duplicate" if q["duplicate"] else
                         "likely N+1" if q["repeated"] else "none"}
                for q in record.sql_report()]}


# --- The data model ---------------------------------------------------------------------------

@lesson("models", lives_in="models.py: Product", queries=0)
def models_lesson():
    return [{"field": field.name, "type": type(field).__name__,
             "column": field.column_name, "null allowed": field.null,
             "indexed": bool(field.index or field.unique or field.primary_key)}
            for field in Product._meta.sorted_fields]


@lesson("one-to-many", lives_in="models.py: Collection", queries=4)
def one_to_many_lesson():
    collection = Collection.select().order_by(Collection.id).first()
    products = collection.products.order_by(Product.title).limit(3)     # the backref
    first = products[0]
    return {"the collection": collection.title,
            "its first products by title": [p.title for p in products],
            "how many it has": collection.products.count(),
            "a product's collection, through the foreign key": first.collection.title}


@lesson("many-to-many", lives_in="models.py: ProductPromotion", queries=4)
def many_to_many_lesson():
    product = (Product.select().join(models.ProductPromotion)
               .order_by(Product.id).first())       # the first product with a promotion
    promotions = (Promotion.select(Promotion.description, Promotion.discount)
                  .join(models.ProductPromotion)
                  .where(models.ProductPromotion.product == product).order_by(Promotion.id))
    order = Order.select().order_by(Order.id).first()
    items = (OrderItem.select(Product.title, OrderItem.quantity, OrderItem.unit_price)
             .join(Product).where(OrderItem.order == order).order_by(OrderItem.id))
    return {f"{product.title}: its promotions": list(promotions.namedtuples()),
            f"order {order.id}: its products": list(items.namedtuples())}


@lesson("generic-relations", lives_in="models.py: GenericLink", queries=2)
def generic_relations_lesson():
    product = Product.select().order_by(Product.id).first()
    link = models.TaggedItem()
    link.point_at(product)      # not saved: this only shows what the link would hold
    first_links = (models.TaggedItem
                   .select(models.Tag.label, models.TaggedItem.content_type,
                           models.TaggedItem.object_id)
                   .join(models.Tag).order_by(models.TaggedItem.id).limit(3))
    return {f"a link to {product.title} holds": {"content_type": link.content_type,
                                                 "object_id": link.object_id},
            "the first tag links": list(first_links.namedtuples())}


@lesson("migrations", lives_in="models.py: migrate", queries=2)
def migrations_lesson():
    applied = models.schema_version()
    return [{"number": n, "migration": step.__name__, "applied": n <= applied}
            for n, step in enumerate(models.MIGRATIONS, start=1)]


# --- The ORM ----------------------------------------------------------------------------------

@lesson("orm-retrieving", lives_in="app.py: get_or_404", queries=6)
def retrieving_lesson():
    everything = Product.select()       # no SQL yet: a query runs when it is read
    first = Product.select().order_by(Product.id).first()
    out_of_stock = Product.select().where(Product.inventory == 0)
    try:
        get_or_404(Product.select(), 10 ** 9)
    except HTTPError as error:
        missing = f"{error.status_code}: {error.body}"
    return {"count()": everything.count(), "first()": first.title,
            "get_by_id()": Product.get_by_id(first.id).title,
            "exists(), out of stock": out_of_stock.exists(),
            "get_or_none(), a missing id": Product.get_or_none(Product.id == 10 ** 9),
            "get_or_404(), a missing id": missing}


@exercise(retrieving_lesson)
def retrieving_answer():
    first = Customer.select().order_by(Customer.last_name, Customer.first_name).first()
    return {"first customer": f"{first.first_name} {first.last_name}",
            "any order pending": Order.select().where(Order.payment_status == "P").exists()}


@lesson("orm-filtering", lives_in="models.py: Product.catalog", queries=4)
def filtering_lesson():
    week_ago = models.utcnow() - datetime.timedelta(days=7)
    between = Product.select().where(Product.unit_price.between(20, 30))
    tea = Product.select().where(Product.title.contains("tea"))
    unfeatured = (Collection.select().where(Collection.featured_product.is_null())
                  .order_by(Collection.title))
    recent = Order.select().where(Order.placed_at >= week_ago)
    return {"unit price between 20 and 30":
                [p.title for p in between.order_by(Product.id).limit(3)],
            "title contains 'tea', in any case":
                [p.title for p in tea.order_by(Product.id).limit(3)],
            "collections without a featured product": [c.title for c in unfeatured],
            "orders placed in the last 7 days": recent.count()}


@exercise(filtering_lesson)
def filtering_answer():
    query = (Product.select().where((Product.collection == 3) & (Product.unit_price < 10))
             .order_by(Product.unit_price, Product.id))
    return [{"title": p.title, "unit price": p.unit_price} for p in query]


@lesson("orm-complex-lookups", lives_in="models.py: Promotion.current", queries=1)
def complex_lookups_lesson():
    query = (Product.select()
             .where(((Product.inventory < 10) | (Product.unit_price > 150))
                    & ~Product.title.contains("coffee")
                    & Product.collection.in_([1, 2, 3]))
             .order_by(Product.id).limit(5))
    return [{"title": p.title, "inventory": p.inventory, "unit price": p.unit_price}
            for p in query]


@exercise(complex_lookups_lesson)
def complex_lookups_answer():
    query = (Order.select().where(~(Order.payment_status == "C") | (Order.customer == 1))
             .order_by(Order.placed_at.desc(), Order.id.desc()).limit(5))
    return [{"order": o.id, "customer": o.customer_id, "status": o.payment_status_label}
            for o in query]


@lesson("orm-field-references", lives_in="models.py: place_order", queries=2)
def field_references_lesson():
    query = (Product.select().where(Product.inventory > Product.unit_price)
             .order_by(Product.id).limit(5))
    restock = Product.update(inventory=Product.inventory + 1)      # built: no SQL yet
    with models.write_transaction() as transaction:
        changed = restock.execute()         # runs it
        transaction.rollback()      # a lesson leaves the shop as it was
    return {"more in stock than their price":
                [{"title": p.title, "inventory": p.inventory,
                  "unit price": p.unit_price} for p in query],
            "rows the update of every inventory changed, then rolled back": changed}


@exercise(field_references_lesson)
def field_references_answer():
    query = (OrderItem.select(OrderItem, Product).join(Product)
             .where(OrderItem.unit_price < Product.unit_price).order_by(OrderItem.id).limit(10))
    return [{"order": i.order_id, "product": i.product.title, "sold at": i.unit_price,
             "unit price": i.product.unit_price} for i in query]


@lesson("orm-sorting", lives_in="models.py: CATALOG_SORTS", queries=4)
def sorting_lesson():
    by_price = Product.select().order_by(Product.unit_price, Product.title.desc())
    reverse = Product.select().order_by(Product.unit_price.desc(), Product.title)
    by_update = Product.select().order_by(Product.last_update, Product.id)
    latest = Product.select().order_by(Product.last_update.desc(), Product.id)
    return {"by price, then by title Z-A": [p.title for p in by_price.limit(3)],
            "the same, reversed": [p.title for p in reverse.limit(3)],
            "updated longest ago": by_update.first().title,
            "updated last": latest.first().title}


@exercise(sorting_lesson)
def sorting_answer():
    query = Order.select().order_by(Order.placed_at.desc(), Order.id.desc()).limit(5)
    return [{"order": o.id, "placed at": o.placed_at} for o in query]


@lesson("orm-limiting", lives_in="models.py: Page", queries=4)
def limiting_lesson():
    by_title = Product.select(Product.title).order_by(Product.title, Product.id)
    return {"limit(3)": [p.title for p in by_title.limit(3)],
            "limit(3).offset(3)": [p.title for p in by_title.limit(3).offset(3)],
            "paginate(3, 3): page 3, 3 a page":
                [p.title for p in by_title.paginate(3, 3)],
            "[9:12]: no LIMIT in its SQL, rows read up to the 12th, then sliced":
                [p.title for p in by_title[9:12]]}


@exercise(limiting_lesson)
def limiting_answer():
    query = Product.select(Product.title).order_by(Product.title, Product.id).paginate(2, 10)
    return [p.title for p in query]


@lesson("orm-selecting-fields", lives_in="models.py: reprice", queries=3)
def selecting_fields_lesson():
    cheapest = (Product.select(Product.id, Product.title)
                .order_by(Product.unit_price, Product.id).limit(3))
    with_products = (Collection.select(Collection.title).join(Product).distinct()
                     .order_by(Collection.title))
    return {"dicts()": list(cheapest.dicts()), "tuples()": list(cheapest.tuples()),
            "collections with products, distinct()": [c.title for c in with_products]}


@exercise(selecting_fields_lesson)
def selecting_fields_answer():
    ordered = OrderItem.select(OrderItem.product).distinct()
    query = Product.select(Product.title).where(Product.id.in_(ordered))
    return [p.title for p in query.order_by(Product.title, Product.id)]


@lesson("orm-deferring", lives_in="models.py: Product.catalog", queries=4)
def deferring_lesson():
    query = Product.select(Product.id, Product.title).order_by(Product.id).limit(3)
    products = list(query)
    return {"titles, selected": [p.title for p in products],
            "descriptions, not selected": [p.description for p in products],
            "descriptions read one by one: 3 more queries":
                [Product.get_by_id(p.id).description for p in products]}


@exercise(deferring_lesson)
def deferring_answer():
    query = (Product.select(Product.title, Product.unit_price)
             .order_by(Product.unit_price, Product.id).limit(5))
    return list(query.namedtuples())


@lesson("orm-joins-vs-prefetch", lives_in="models.py: cart_lines", queries=9)
def joins_lesson():
    orders = Order.select().order_by(Order.id).limit(5)
    with capture_queries() as naive:
        names = [order.customer.first_name for order in orders]     # 1 + 5 queries
    with capture_queries() as joined:
        orders = Order.select(Order, Customer).join(Customer).order_by(Order.id)
        names = [order.customer.first_name for order in orders.limit(5)]   # 1 query
    with capture_queries() as prefetched:
        orders = prefetch(Order.select().order_by(Order.id).limit(5), OrderItem)
        counts = [len(order.items) for order in orders]             # 2 queries
    return {"names": names, "items per order": counts,
            "queries, naive loop": len(naive), "queries, join": len(joined),
            "queries, prefetch": len(prefetched)}


@exercise(joins_lesson)
def joins_answer():
    orders = (Order.select(Order, Customer).join(Customer)
              .order_by(Order.placed_at.desc(), Order.id.desc()).limit(5))
    items = OrderItem.select(OrderItem, Product).join(Product).order_by(OrderItem.id)
    return [{"order": o.id, "customer": f"{o.customer.first_name} {o.customer.last_name}",
             "items": [f"{i.quantity} × {i.product.title}" for i in o.items]}
            for o in prefetch(orders, items)]


@lesson("orm-aggregates", lives_in="models.py: cart_item_count", queries=1)
def aggregates_lesson():
    query = Product.select(fn.COUNT(Product.id).alias("count"),
                           fn.MIN(Product.unit_price).alias("cheapest"),
                           fn.MAX(Product.unit_price).alias("dearest"),
                           fn.ROUND(fn.AVG(Product.unit_price), 2).alias("average"))
    return query.namedtuples().get()


@exercise(aggregates_lesson)
def aggregates_answer():
    return (Product.select(fn.MIN(Product.unit_price).alias("lowest"),
                           fn.MAX(Product.unit_price).alias("highest"),
                           fn.ROUND(fn.AVG(Product.unit_price), 2).alias("average"))
            .where(Product.collection == 3).namedtuples().get())


@lesson("orm-annotations", lives_in="models.py: Order.with_totals", queries=1)
def annotations_lesson():
    stock = Case(None, [(Product.inventory == 0, "out"),
                        (Product.inventory < 10, "low")], "ok")
    query = (Product.select(Product.title, Product.inventory, stock.alias("stock"),
                            (Product.inventory + 10).alias("restocked"))
             .order_by(Product.id).limit(5))
    return list(query.namedtuples())


@exercise(annotations_lesson)
def annotations_answer():
    gold = Case(None, [(Customer.membership == "G", "yes")], "no")
    query = (Customer.select(Customer.first_name, Customer.last_name, gold.alias("gold"))
             .order_by(Customer.last_name, Customer.first_name, Customer.id))
    return list(query.namedtuples())


@lesson("orm-functions", lives_in="models.py: Customer.clean", queries=1)
def functions_lesson():
    full_name = Customer.first_name.concat(" ").concat(Customer.last_name)
    # coerce(False): a length is a number, not text like the column it measures
    email_length = fn.LENGTH(Customer.email).coerce(False)
    query = (Customer.select(full_name.alias("full_name"),
                             fn.UPPER(Customer.last_name).alias("shout"),
                             email_length.alias("email_length"))
             .order_by(Customer.id).limit(5))
    return list(query.namedtuples())


@exercise(functions_lesson)
def functions_answer():
    full_name = fn.UPPER(Customer.first_name.concat(" ").concat(Customer.last_name))
    return [row[0] for row in Customer.select(full_name).order_by(full_name).tuples()]


@lesson("orm-grouping", lives_in="models.py: per_parent", queries=1)
def grouping_lesson():
    orders = fn.COUNT(Order.id)
    query = (Customer.select(Customer.first_name, Customer.last_name,
                             orders.alias("orders"))
             .join(Order, JOIN.LEFT_OUTER).group_by(Customer.id)
             .order_by(orders.desc(), Customer.id).limit(5))
    return list(query.namedtuples())


@exercise(grouping_lesson)
def grouping_answer():
    spent = models.money_sum(OrderItem.unit_price * OrderItem.quantity)
    query = (Customer.select(Customer.first_name, Customer.last_name, spent.alias("spent"))
             .join(Order).join(OrderItem).group_by(Customer.id)
             .order_by(spent.desc(), Customer.id).limit(5))
    return list(query.namedtuples())


@lesson("orm-expressions", lives_in="models.py: price_after", queries=1)
def expressions_lesson():
    discounted = Product.unit_price * Decimal("0.8")
    query = (Product.select(Product.title, Product.unit_price, Product.price,
                            discounted.alias("discounted_price"))
             .order_by(Product.id).limit(5))
    return [{"title": p.title, "unit price": p.unit_price,
             "unit_price * 0.8, by the database": p.discounted_price,
             "price_after(unit_price, 20)": models.price_after(p.unit_price, 20),
             "price paid today (stored)": p.price} for p in query]


@exercise(expressions_lesson)
def expressions_answer():
    query = (Product.select().where(Product.price <= Product.unit_price * Decimal("0.8"))
             .order_by(Product.id))
    return [{"title": p.title, "unit price": p.unit_price, "price": p.price} for p in query]


@lesson("orm-generic-relations", lives_in="models.py: tags_for", queries=3)
def generic_queries_lesson():
    product = Product.select().order_by(Product.id).first()
    gift = models.Tag.select(models.Tag.id).where(models.Tag.label == "gift")
    tagged = models.TaggedItem.targets(Product, models.TaggedItem.tag.in_(gift))
    gifts = Product.select(Product.title).where(Product.id.in_(tagged))
    return {f"the tags of {product.title}":
                [tag.label for tag in models.tags_for(product)],
            "products tagged gift": [p.title for p in gifts.order_by(Product.id)]}


@exercise(generic_queries_lesson)
def generic_queries_answer():
    count = fn.COUNT(models.TaggedItem.id)
    query = (models.Tag.select(models.Tag.label, count.alias("products"))
             .join(models.TaggedItem).where(models.TaggedItem.content_type == "product")
             .group_by(models.Tag.id).order_by(count.desc(), models.Tag.label))
    return list(query.namedtuples())


@lesson("orm-query-cache", lives_in="app.py: home", queries=3)
def query_cache_lesson():
    ran = {}        # step -> the SQL it ran
    with capture_queries() as ran["building the query"]:
        query = Product.select().where(Product.inventory > 0).order_by(Product.id)
        query = query.limit(5)
    with capture_queries() as ran["the first loop"]:
        [p.title for p in query]
    with capture_queries() as ran["a second loop"]:
        [p.title for p in query]
    with capture_queries() as ran["len(query) and query[0]"]:
        len(query), query[0]
    with capture_queries() as ran["query.count()"]:
        query.count()
    with capture_queries() as ran["query.where(...), a new query"]:
        list(query.where(Product.inventory > 10))
    return {"SQL queries run by each step":
                {step: len(sql) for step, sql in ran.items()}}


@exercise(query_cache_lesson)
def query_cache_answer():
    query = Order.select().order_by(Order.id).limit(3)
    orders = list(query)
    with capture_queries() as ran:
        query.exists()
    return {"orders read by the loop": len(orders), "SQL queries run by exists()": len(ran)}


@lesson("orm-creating", lives_in="models.py: save_customer_profile", queries=4)
def creating_lesson():
    with models.write_transaction() as transaction:
        collection = Collection.create(title="Lesson collection")
        product = Product(title="Lesson tea", unit_price=Decimal("4.50"),
                          inventory=5, collection=collection)
        product.save()          # the slug and the price are worked out as it saves
        try:
            Product(title="", unit_price=0, collection=collection).save()
        except models.ValidationError as error:
            refused = error.errors
        inside = Collection.select().count()
        transaction.rollback()      # undo it all: a lesson leaves the shop as it was
    return {"the new product": {"title": product.title, "slug": product.slug,
                                "price": product.price},
            "a product that breaks the rules": refused,
            "collections inside the transaction": inside,
            "collections after the rollback": Collection.select().count()}


@exercise(creating_lesson)
def creating_answer():
    with models.write_transaction() as transaction:
        cart = models.Cart.create()
        first = Product.select().order_by(Product.id).first()
        models.CartItem.create(cart=cart, product=first, quantity=2)
        inside = models.cart_item_count(cart.id)
        transaction.rollback()
    return {"items in the cart inside the transaction": inside,
            "items after the rollback": models.cart_item_count(cart.id)}


@lesson("orm-updating", lives_in="app.py: ProductAdmin.clear_inventory", queries=7)
def updating_lesson():
    product = Product.select().order_by(Product.id).first()    # its inventory, as read now
    with models.write_transaction() as transaction:
        changed = (Product.update(inventory=Product.inventory + 10)
                   .where(Product.collection == product.collection_id).execute())
        updated = Product.get_by_id(product.id).inventory
        product.unit_price += 1
        product.save()      # the fields assigned since it was read: not the inventory
        saved = Product.get_by_id(product.id)
        transaction.rollback()
    return {"rows update() changed": changed, "the inventory after update()": updated,
            "after save(), the unit price": saved.unit_price,
            "after save(), the inventory: the update is kept": saved.inventory,
            "after the rollback, the unit price":
                Product.get_by_id(product.id).unit_price}


@exercise(updating_lesson)
def updating_answer():
    pending = Order.select().where(Order.payment_status == "P")
    with models.write_transaction() as transaction:
        changed = Order.update(payment_status="C").where(Order.payment_status == "P").execute()
        transaction.rollback()
    return {"orders marked complete": changed, "pending after the rollback": pending.count()}


@lesson("orm-deleting", lives_in="models.py: delete_rows", queries=9)
def deleting_lesson():
    order = Order.select().order_by(Order.id).first()
    collection = Collection.select().join(Product).order_by(Collection.id).first()
    with models.write_transaction() as transaction:
        items = order.items.count()
        order.delete_instance(recursive=True)       # its items first, then the order
        try:
            with db.atomic():       # a savepoint: if this fails, only this is undone
                collection.delete_instance()
            refused = "deleted"
        except IntegrityError as error:
            refused = f"refused by the database ({type(error).__name__})"
        transaction.rollback()
    still_there = Order.get_or_none(Order.id == order.id) is not None
    return {f"order {order.id}'s items, deleted with it": items,
            f"deleting {collection.title}, which has products": refused,
            "the order is back after the rollback": still_there}


@exercise(deleting_lesson)
def deleting_answer():
    failed = Order.select(Order.id).where(Order.payment_status == "F")
    with models.write_transaction() as transaction:
        items = OrderItem.delete().where(OrderItem.order.in_(failed)).execute()
        orders = Order.delete().where(Order.payment_status == "F").execute()
        transaction.rollback()
    return {"items deleted": items, "orders deleted": orders,
            "failed orders after the rollback": failed.count()}


@lesson("orm-transactions", lives_in="models.py: place_order", queries=7)
def transactions_lesson():
    before = Order.select().count()
    customer = Customer.select().order_by(Customer.id).first()
    with models.write_transaction() as transaction:
        order = Order.create(customer=customer)
        product = Product.select().order_by(Product.id).first()
        OrderItem.create(order=order, product=product, quantity=1, unit_price=10)
        inside = Order.select().count()
        transaction.rollback()          # undo both inserts: the shop stays as it was
    return {"orders before": before, "orders inside the transaction": inside,
            "orders after the rollback": Order.select().count()}


@exercise(transactions_lesson)
def transactions_answer():
    before = Collection.select().count()
    try:
        with models.write_transaction():
            Collection.create(title="Doomed")
            raise RuntimeError("something went wrong")      # leaving the block rolls back
    except RuntimeError:
        pass
    return {"collections before": before, "collections after": Collection.select().count()}


@lesson("orm-raw-sql", lives_in="models.py: migrate", queries=1)
def raw_sql_lesson():
    p = db.param        # the placeholder: "?" in SQLite, "%s" in PostgreSQL
    query = Product.raw("SELECT id, title, unit_price FROM product "
                        f"WHERE unit_price > {p} "
                        "ORDER BY unit_price DESC, id LIMIT 3", 100)
    return [{"id": row.id, "title": row.title, "unit price": row.unit_price}
            for row in query]


@exercise(raw_sql_lesson)
def raw_sql_answer():
    cursor = db.execute_sql(
        'SELECT c.first_name, c.last_name, COUNT(o.id) AS orders FROM customer c '
        'JOIN "order" o ON o.customer_id = c.id GROUP BY c.id, c.first_name, c.last_name '
        'ORDER BY orders DESC, c.id LIMIT 5')
    return [{"first name": first, "last name": last, "orders": orders}
            for first, last, orders in cursor.fetchall()]


# --- The guided tour --------------------------------------------------------------------------

def tour_stops():
    """The stops of one request for a product page, as `python app.py` serves it, from the
    server in (their text is views/playground/tour.toml): (its path, stops)."""
    product = Product.select(Product.id).order_by(Product.id).first()
    path = url("product", product_id=product.id if product else 1)
    route, args = root.router.match({"PATH_INFO": path, "REQUEST_METHOD": "GET"})
    facts = {"path": path, "rule": route.rule, "name": repr(route.name), "args": args,
             "hooks": ", ".join(hook.__name__ for hook in root._hooks["before_request"])}
    stops = []
    for stop in playground_text("tour")["stops"]:
        text = stop["text"].format_map(facts)
        stops.append(file_stop(stop["title"], text, stop["file"]) if "file" in stop else
                     code_stop(stop["title"], text, stop["code"], stop.get("around")))
    return path, stops


def code_stop(title, text, reference, around=None, most=14):
    """One stop of the tour: where the function "bottle.py: Bottle.wsgi" is, and a few of its
    lines, read now from the source of the running program. With `around`, the lines around
    the first line that contains it; else the first `most`."""
    filename, _, name = reference.partition(": ")
    lines, start = inspect.getsourcelines(named(reference)[1])
    found = next((n for n, line in enumerate(lines) if around and around in line), None)
    first = 0 if found is None else max(0, found - 2)
    shown = lines[first:first + most] if found is None else lines[first:found + 6]
    while shown and not shown[0].strip():       # start at a line with something on it
        shown, first = shown[1:], first + 1
    return {"title": title, "text": text, "found": around is None or found is not None,
            "where": f"{filename}, line {start + first}", "name": name,
            "code": textwrap.dedent("".join(shown)).rstrip()}


def file_stop(title, text, template, most=12):
    """A stop in a template: its first lines."""
    code = "\n".join(template_text(template).splitlines()[:most])
    return {"title": title, "text": text, "found": True, "name": template + ".tpl",
            "where": f"views/{template}.tpl, line 1", "code": code}


@playground.get("/tour", name="tour")
def tour():
    """One request for a product page, followed through the code that serves it."""
    path, stops = tour_stops()
    return render("playground/tour", stops=stops, path=path, title="A request, step by step")


###############################################################################
# 14. Debug toolbar
###############################################################################

# Queries are collected per thread while something asks for them (a playground lesson, the
# debug toolbar). The hook costs one attribute lookup when nobody is listening.
_capture = threading.local()


def _on_query(event):
    queries = getattr(_capture, "queries", None)
    if queries is not None:
        queries.append({"sql": event.sql, "params": list(event.params or ()),
                        "ms": event.duration * 1000,
                        "where": _caller() if getattr(_capture, "record", None) else ""})


def _caller():
    """'models.py:123 place_order': the line of our own code that ran a query."""
    for frame in reversed(traceback.extract_stack()[:-3]):
        name = os.path.basename(frame.filename)
        if name in ("app.py", "models.py") and \
                frame.name not in ("_on_query", "_caller", "tell_and_execute"):
            return f"{name}:{frame.lineno} {frame.name}"
    return ""


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


# The toolbar is middleware: with debug on, for a client at an internal address (the
# connection's, or behind a trusted proxy the one it forwards: see client_address), it records
# what each request did, and injects a bar before </body> of HTML pages. The panels are pages
# of their own under /__debug__/, rendered only when opened, and kept for the last requests of
# every kind (JSON and redirects included). With debug off the middleware is not installed at
# all: it costs nothing.

DEBUG_HISTORY = collections.OrderedDict()     # request id -> Record, newest last
DEBUG_HISTORY_SIZE = 25


class Record:
    """What one request did: timings, SQL, templates, cache, log lines, request and response."""

    def __init__(self, environ):
        self.id = secrets.token_hex(6)
        self.method, self.path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        self.query = environ.get("QUERY_STRING", "")
        self.started = time.perf_counter()
        self.when = datetime.datetime.now(datetime.timezone.utc)
        headers = bottle.WSGIHeaderDict(environ)    # as sent: no decoding that could fail
        self.headers_in = {name: _masked_header(name, headers.raw(name)) for name in headers}
        self.queries, self.templates, self.cache, self.logs = [], [], [], []
        self.status, self.headers_out, self.ms, self.request_data = "", [], 0.0, {}

    def sql_ms(self):
        return sum(q["ms"] for q in self.queries)

    def sql_report(self):
        """The queries, each flagged as a duplicate or a likely N+1 (the same SQL, new params)."""
        texts = collections.Counter(q["sql"] for q in self.queries)
        exact = collections.Counter((q["sql"], repr(q["params"])) for q in self.queries)
        return [dict(q, n=n, duplicate=exact[(q["sql"], repr(q["params"]))] > 1,
                     repeated=texts[q["sql"]] >= 3 and exact[(q["sql"], repr(q["params"]))] == 1)
                for n, q in enumerate(self.queries)]


class _LogToRecord(logging.Handler):
    """Log lines emitted while a request is recorded go to its logging panel."""

    def emit(self, entry):
        record = getattr(_capture, "record", None)
        if record is not None:
            record.logs.append((entry.levelname, entry.name, self.format(entry)))


def _record_cache_event(region, key, hit):
    record = getattr(_capture, "record", None)
    if record is not None:
        record.cache.append((region, key, hit))


def masked_settings(s):
    """The settings as a dict for display, with secrets hidden: the keys, old ones included,
    and the URLs that hold a password."""
    shown = {}
    for name, value in sorted(vars(s).items()):
        if isinstance(value, list):
            value = ", ".join(map(str, value))
        if isinstance(value, str) and value and (
                name.startswith("secret_key") or ("@" in value and ":" in value)):
            value = MASKED
        if not name.startswith("_"):
            shown[name] = value
    return shown


def is_internal(environ):
    return client_address(environ) in settings.internal_ips


def debug_toolbar(app):
    """Wrap `app`: record each request of an internal client and show the toolbar."""
    if not any(isinstance(h, _LogToRecord) for h in logging.getLogger().handlers):
        logging.getLogger().addHandler(_LogToRecord())
        log.setLevel(logging.DEBUG)
        _cache_listeners.append(_record_cache_event)

    def wsgi(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not is_internal(environ) or path.startswith(("/__debug__/", "/static/")):
            return app(environ, start_response)
        record = _capture.record = Record(environ)
        seen = {}

        def start(status, headers, exc_info=None):
            seen.update(status=status, headers=headers, exc_info=exc_info)
        try:
            with capture_queries() as queries:
                content = whole_body(app(environ, start))     # the toolbar goes inside it
        finally:
            _capture.record = None
        record.queries, record.ms = queries, (time.perf_counter() - record.started) * 1000
        record.status = seen["status"]
        record.headers_out = [(k, _masked_header(k, v)) for k, v in seen["headers"]]
        record.path = _masked_path(environ, record.path)
        record.request_data = _request_data(environ)
        DEBUG_HISTORY[record.id] = record
        while len(DEBUG_HISTORY) > DEBUG_HISTORY_SIZE:
            DEBUG_HISTORY.popitem(last=False)
        content, headers = with_toolbar(record, content, seen["headers"])
        start_response(seen["status"], headers, seen.get("exc_info"))
        return [content]
    return wsgi


def with_toolbar(record, content, headers):
    """An HTML page's body and headers with the toolbar put in before </body>."""
    content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
    if content_type.startswith("text/html") and b"</body>" in content:
        bar = debug_template("toolbar", record=record).encode()
        content = content.replace(b"</body>", bar + b"</body>", 1)
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(content))))
    return content, headers


# Everyone at an internal address sees the toolbar's history, so it shows no one's secrets:
# not the session and CSRF cookies (a session cookie logs its holder in), nor the CSRF token,
# nor what was typed into a password input (known by the field's type in the app's forms, not
# by its name), nor a URL's secret part (a route's `secret_args`, such as a reset token).
MASKED = "********"
SECRET_COOKIES = (SESSION_COOKIE, CSRF_COOKIE)
SECRET_SESSION_KEYS = ("csrf", "auth", "reset_token", "cart_id")   # a cart's id is its key


def _masked_header(name, value):
    name = name.lower()
    if name in ("authorization", "x-csrf-token"):
        return MASKED
    if name == "cookie":            # "a=1; b=2": every cookie the browser sends
        return "; ".join(_masked_cookie(pair) for pair in value.split(";"))
    if name == "set-cookie":        # "a=1; Path=/; HttpOnly": one cookie, then its flags
        pair, semicolon, flags = value.partition(";")
        return _masked_cookie(pair) + semicolon + flags
    return value


def _masked_cookie(pair):
    name = pair.partition("=")[0].strip()
    return f"{name}={MASKED}" if name in SECRET_COOKIES else pair.strip()


def _masked_path(environ, path):
    route, args = environ.get("bottle.route"), environ.get("route.url_args") or {}
    for name in (route.config.get("secret_args") or []) if route else []:
        if args.get(name):
            path = path.replace(args[name], MASKED)
    return path


def password_field_names():
    """The names of the password inputs of every form of the app: the fields whose type is
    PasswordField, in every subclass of wtforms.Form."""
    names, forms = set(), [Form]
    while forms:
        form = forms.pop()
        forms.extend(form.__subclasses__())
        names.update(name for name, field in vars(form).items()
                     if isinstance(field, wtforms.fields.core.UnboundField)
                     and issubclass(field.field_class, PasswordField))
    return names


def _request_data(environ):
    """The request as the handler saw it: query, form, cookies and session, secrets masked.
    The bytes are shown whatever they are: a request that was refused for not being UTF-8
    is recorded too."""
    req = bottle.BaseRequest(environ)
    secret = password_field_names() | {"csrf_token"}

    def shown(forms):
        pairs = forms.allitems()
        if forms.recode_unicode:        # URL-encoded: UTF-8 bytes kept as Latin-1 text
            pairs = [(k.encode("latin1").decode("utf-8", "replace"),
                      v.encode("latin1").decode("utf-8", "replace")) for k, v in pairs]
        return {k: MASKED if k in secret else v for k, v in pairs}
    session_obj = environ.get("beaker.session")
    has_session = SESSION_COOKIE in req.cookies and session_obj is not None
    return {"query": shown(req.query),
            "form": shown(req.forms) if req.method != "GET" else {},
            "cookies": {k: MASKED if k in SECRET_COOKIES else v for k, v in req.cookies.items()},
            "session": {k: MASKED if k in SECRET_SESSION_KEYS else v
                        for k, v in session_obj.items()} if has_session else {}}


def debug_record(ident):
    """The recorded request `ident`, for an internal client with debug on; else 404."""
    if not settings.debug or not is_internal(request.environ):
        abort(404)
    record = DEBUG_HISTORY.get(ident)
    if record is None:
        abort(404, "That request is no longer in the toolbar's history.")
    return record


DEBUG_PANELS = ["versions", "timer", "settings", "request", "headers", "sql", "templates",
                "cache", "logging", "routes"]


def debug_template(name, **context):
    """Render views/debug/<name>.tpl: the toolbar's own pages, outside the shop's layout."""
    return bottle.template("debug/" + name, url=url, static_url=static_url, panels=DEBUG_PANELS,
                           **context)


@debug.get("/", name="debug_history")
def debug_history():
    """The last requests of every kind, newest first."""
    if not settings.debug or not is_internal(request.environ):
        abort(404)
    return debug_template("history", records=list(reversed(DEBUG_HISTORY.values())))


@debug.get("/<ident>/", name="debug_panels")
@debug.get("/<ident>/<panel>", name="debug_panel")
def debug_panel(ident, panel="timer"):
    """One panel of one recorded request."""
    record = debug_record(ident)
    if panel not in DEBUG_PANELS:
        abort(404)
    from importlib.metadata import version
    versions = dict({"Python": sys.version.split()[0], "Database": type(db.obj).__name__},
                    **{name: version(name) for name in ("bottle", "peewee", "Beaker", "WTForms",
                                                        "waitress")})
    return debug_template("panel", record=record, panel=panel, versions=versions,
                          settings=masked_settings(settings), routes=list_routes())


@debug.get("/<ident>/sql/<n:int>/explain", name="debug_explain")
def debug_explain(ident, n):
    """The database's plan for one recorded SELECT."""
    record = debug_record(ident)
    if not 0 <= n < len(record.queries) or \
            not record.queries[n]["sql"].lstrip().upper().startswith("SELECT"):
        abort(404, "Only recorded SELECT queries can be explained.")
    query = record.queries[n]
    prefix = "EXPLAIN QUERY PLAN " if models.is_sqlite() else "EXPLAIN "
    plan = [" ".join(str(c) for c in row)
            for row in db.execute_sql(prefix + query["sql"], query["params"]).fetchall()]
    return debug_template("explain", record=record, query=query, plan=plan)


# --- The JSON API's description: OpenAPI 3.1, built from the declarations -------------------
# Part 8 declares each operation on its route; here those declarations become the document that
# /api/openapi.json serves to programs and /api/docs shows to people. It sits beside the debug
# toolbar: both are tools for the people who program against the shop.

# The shapes of the answers of part 8, by name (a request body's comes from its declaration).
# A field an answer holds but its shape does not list fails the tests (additionalProperties).
TEXT, WHEN = {"type": "string"}, {"type": "string", "format": "date-time"}

ORDER_FIELDS = {
    "id": ref("Id"), "placed_at": WHEN,
    "payment_status": {"type": "string",
                       "enum": [label.lower() for _, label in models.PAYMENT_STATUSES]},
    "item_count": integer(0, description="Units ordered, all lines together."),
    "total": ref("Money")}
SCHEMAS = {
    "Id": dict(integer(1, models.MAX_INT, "A whole number, 1 or more."), format="int64"),
    "Money": {"type": "string", "pattern": r"^[0-9]+\.[0-9]{2}$", "example": "12.50",
              "description": "An amount with two decimals, as a string."},
    "Error": json_object({
        "error": dict(TEXT, description="The status in words."),
        "message": dict(TEXT, description="What went wrong."),
        "errors": {"type": "object", "additionalProperties": TEXT,
                   "description": "Field (or product id) to what is wrong with it."},
        "status": {"type": "integer", "description": "The HTTP status again."}}),
    "Index": json_object(dict.fromkeys(INDEX, TEXT)),
    "Product": json_object({
        "id": ref("Id"), "title": TEXT, "slug": dict(TEXT, description="The title for URLs."),
        "description": TEXT, "unit_price": dict(ref("Money"), description="The list price."),
        "price": dict(ref("Money"), description="The price paid today: the list price less "
                                                "the best current promotion."),
        "inventory": integer(0, description="In stock."),
        "collection": ref("CollectionRef"), "last_update": WHEN,
        "images": {"type": "array", "items": ref("Image"),
                   "description": "Its photos, the main one first."}}),
    "Image": json_object({
        "url": dict(TEXT, description="The photo's address, 800 pixels wide at most. It "
                                      "changes when the photo does: cache it for ever."),
        "width": integer(1), "height": integer(1),
        "alt": dict(TEXT, description="What it shows, for those who cannot see it.")}),
    "CollectionRef": dict(json_object({"id": ref("Id"), "title": TEXT}),
                          description="The collection a product is in."),
    "ProductPage": json_object({
        "count": {"type": ["integer", "null"], "minimum": 0,
                  "description": f"How many match; null past {CATALOG_COUNT_LIMIT:,}."},
        "page": integer(1), "has_next": {"type": "boolean"},
        "results": {"type": "array", "items": ref("Product")}}),
    "Collection": json_object({
        "id": ref("Id"), "title": TEXT, "product_count": integer(0),
        "featured_product_id": {"anyOf": [ref("Id"), {"type": "null"}],
                                "description": "The product it shows first, if any."}}),
    "Line": json_object({
        "product_id": ref("Id"), "title": TEXT,
        "unit_price": dict(ref("Money"), description="The price paid for one: today's price "
                                                     "in a cart, the price charged in an order."),
        "quantity": integer(1),
        "line_total": dict(ref("Money"), description="unit_price × quantity.")}),
    "Cart": json_object({"id": UUID, "items": {"type": "array", "items": ref("Line")},
                         "total": ref("Money")}),
    "Order": json_object(ORDER_FIELDS),
    "OrderDetail": json_object(dict(ORDER_FIELDS, items={"type": "array", "items": ref("Line")})),
    "OrderPage": json_object({
        "count": integer(0), "page": integer(1), "has_next": {"type": "boolean"},
        "results": {"type": "array", "items": ref("Order")}}),
}


# What the API promises its clients, said once: it opens the document.
INFO = {
    "title": "Storefront API",
    "version": "1.0",
    "description": (
        "The shop for programs: products, collections, carts and orders, in JSON. It calls "
        "the same rules as the web pages, so stock, prices and checkout agree.\n\n"
        "Money is a string with two decimals (`\"12.50\"`), never a float; times are ISO "
        "8601 in UTC. Numbers in a body must be JSON numbers (`\"2\"` is refused). Fields a "
        "body carries beyond those listed are ignored.\n\n"
        "Errors are JSON too, `{\"error\", \"message\", \"errors\", \"status\"}`, where "
        "`errors` names each bad field. Their status follows one rule: 400 when the request "
        "is malformed, 404 when the URL names something that is not there, 409 when the "
        "request is well formed but the shop cannot do it as things stand (too few in stock, "
        "a product or cart the body names that is not there, an empty cart); 401 for orders "
        "without a login and for a wrong, revoked or expired token, 403 for a missing CSRF "
        f"token, 413 for a body over {BODY_KIB} KiB, 429 for more new carts from one client "
        "than it may make, or after too many wrong tokens (with `Retry-After`).\n\n"
        "A program logs in with an API token, made on the account page (/accounts/): it sends "
        "`Authorization: Bearer <token>` with every call, and needs no cookie and no CSRF "
        "token.")}
TAGS = {
    "Index": "Where to start.",
    "Products": "The catalog, read-only.",
    "Collections": "Groups of products, read-only.",
    "Carts": "A cart is made by anyone and found by its id, a UUID: whoever holds the id holds "
             "the cart.",
    "Orders": "The logged-in user's orders; checkout.",
}
SECURITY_SCHEMES = {
    "bearer": {
        "type": "http", "scheme": "bearer",
        "description": "An API token, made on the account page (/accounts/) and shown once: "
                       "`Authorization: Bearer sf_...`. The call acts as the token's user, "
                       "with their permissions, and needs no cookie and no CSRF token. A "
                       "wrong, revoked or expired token is a 401."},
    "session": {
        "type": "apiKey", "in": "cookie", "name": SESSION_COOKIE,
        "description": "The session cookie that logging in (POST /accounts/login, the site's "
                       "login form) sets. Orders need it."},
    "csrfToken": {
        "type": "apiKey", "in": "header", "name": "X-CSRF-Token",
        "description": "Any call that changes something and sends cookies must send the "
                       "session's CSRF token in this header: the `csrf_token` field of any "
                       "form on the site while logged in. A call that sends no cookie at all "
                       "needs no token."}}
CHALLENGE = {"description": "`Bearer`: send an API token.", "required": True,
             "schema": {"type": "string"}}
SHARED_ANSWERS = {
    "BadRequest": answer("The request is malformed: `message` says how, `errors` names each "
                         "bad field or parameter. A URL that is not UTF-8 text or holds a NUL "
                         "character is one too.", "Error"),
    "LoginRequired": dict(answer("Not logged in (send an API token, or the session cookie), "
                                 "or the token is wrong, revoked or expired.", "Error"),
                          headers={"WWW-Authenticate": CHALLENGE}),
    "BadToken": dict(answer("The API token sent is wrong, revoked or expired. (Without one, "
                            "anyone may call this.)", "Error"),
                     headers={"WWW-Authenticate": CHALLENGE}),
    "TooManyFailures": dict(answer("Too many wrong tokens or passwords from this client: "
                                   "`Retry-After` says when it may try again.", "Error"),
                            headers={"Retry-After": {
                                "description": "Seconds until it may try again.",
                                "required": True, "schema": integer(1)}}),
    "CsrfRefused": answer("Cookies were sent without the session's X-CSRF-Token.", "Error"),
    "TooLarge": answer(f"The body is larger than {BODY_KIB} KiB.", "Error"),
    "Unavailable": answer("A part of the deployment this call needs (the database, the "
                          "session store, the disk) is down: try again after Retry-After "
                          "seconds.", "Error"),
}

# Who may call an operation, by (it is the user's, it changes something), as requirements any
# one of which will do. An API token will do for any. CSRF (part 10): a call without cookies
# speaks for no browser and needs no token; a change sent with the session cookie needs the
# X-CSRF-Token header too.
TOKEN, BEARER = {"session": [], "csrfToken": []}, {"bearer": []}
CALLERS = {(False, False): [{}, BEARER], (False, True): [{}, BEARER, TOKEN],
           (True, False): [BEARER, {"session": []}], (True, True): [BEARER, TOKEN]}


def path_parameter(name):
    """A parameter of the path, from its wildcard's name in the route."""
    if name == "cart_id":
        return {"name": name, "in": "path", "required": True, "schema": UUID,
                "description": "The cart's id, from POST /api/carts.", "example": EXAMPLE_CART}
    return {"name": name, "in": "path", "required": True, "schema": ref("Id"), "example": 1,
            "description": f"The {name.removesuffix('_id')}'s id."}


def query_parameter(query):
    spec = dict(query._asdict(), refusal=None, **{"in": "query"})
    if callable(query.description):
        spec["description"] = query.description()
    return {key: value for key, value in spec.items() if value is not None}


def operation_spec(route, operation):
    """One operation of the document, from its route and its declaration, with the answers
    that one place gives every operation of its kind (part 10: 400, 401 and 429 for a token,
    403 for a change; api_customer(): 401; json_body(): 413; part 15: 503)."""
    changes = route.method != "GET"
    shared = {400: "BadRequest", 401: "LoginRequired" if operation.login else "BadToken",
              403: changes and "CsrfRefused", 413: operation.body and "TooLarge",
              429: "TooManyFailures", 503: "Unavailable"}
    answers = {status: ref(name, "responses") for status, name in shared.items() if name}
    answers.update(operation.answers)
    spec = {"operationId": route.name, "tags": [operation.tag], "summary": operation.summary,
            "description": operation.description,
            "parameters": [path_parameter(name) for name in re.findall(r"<(\w+)", route.rule)]
            + [query_parameter(query) for query in operation.query],
            "security": CALLERS[operation.login, changes],
            "requestBody": operation.body and {"required": True, "content": {
                "application/json": {"schema": ref(operation.body.name),
                                     "example": operation.body.example}}},
            "responses": {str(status): answer(given, "Error") if isinstance(given, str)
                          else given for status, given in sorted(answers.items())}}
    return {key: value for key, value in spec.items() if value}


def openapi_document(server="/"):
    """The OpenAPI document of the routes that declare an operation, in their order, for the
    API served under `server` (the site may live under a prefix)."""
    paths, bodies = {}, {}
    for route in api.routes:
        operation = route.config.get("openapi")
        if operation:
            path = re.sub(r"<(\w+)[^>]*>", r"{\1}", route.rule)
            paths.setdefault(path, {})[route.method.lower()] = operation_spec(route, operation)
            if operation.body:
                bodies[operation.body.name] = json_object(operation.body.fields, answer=False)
    return {"openapi": "3.1.0", "info": INFO,
            "tags": [{"name": name, "description": text} for name, text in TAGS.items()],
            "paths": paths,
            "components": {"securitySchemes": SECURITY_SCHEMES, "responses": SHARED_ANSWERS,
                           "schemas": dict(SCHEMAS, **bodies)},
            "servers": [{"url": server}]}


def resolve(document, node):
    """`node`, or the shared piece its {"$ref": "#/components/..."} points at."""
    while "$ref" in node:
        node = functools.reduce(operator.getitem, node["$ref"][2:].split("/"), document)
    return node


###############################################################################
# 15. Assembly
###############################################################################

# --- When a part of the deployment fails ------------------------------------------------------

# The database, a Redis or the disk may fail while the shop runs. What needs the part that
# failed answers a clear 503 (part 9's page, JSON under /api/); what does not is served as
# usual: the shop's pages without the cache (part 11), and without the session of a visitor
# who has one. The log says what failed in one line per cause and interval, not a traceback
# per request. Every handler and hook runs inside answer_503_when_down().
FAULT_LOG_EVERY = 60        # seconds between two log lines about one cause
RETRY_AFTER = 30            # seconds a 503 asks the client to wait
REDIS_TIMEOUT = 0.25        # seconds: a Redis that has not answered by then is down (or frozen)
REDIS_TIMEOUTS = {"socket_timeout": REDIS_TIMEOUT, "socket_connect_timeout": REDIS_TIMEOUT}
REDIS_RETRY_EVERY = 5       # seconds a Redis that failed is left alone before the next try
UNAVAILABLE = {
    "database": "The shop's database is not answering. Please try again in a minute.",
    "disk": "The shop cannot save right now. You can still browse it; please try again later.",
    "sessions": "The shop cannot reach its session store: logging in, the cart and checkout "
                "are unavailable for a moment. You can still browse the shop.",
}
FAULT_NAMES = {"database": "database", "disk": "disk (it is full)", "sessions": "session store",
               "cache": "cache's Redis"}
_faults, _faults_lock = {}, threading.Lock()


class Unavailable(Exception):
    """A part of the deployment failed: `cause` is a key of UNAVAILABLE, or "cache"."""

    def __init__(self, cause, error):
        super().__init__(f"{cause}: {error}")
        self.cause, self.error = cause, error


def fault_cause(error):
    """What failed, if `error` says a part of the deployment did ("disk", "database",
    "sessions": a Redis), or None: then it is a bug, and a 500."""
    redis = sys.modules.get("redis")
    if isinstance(error, Unavailable):
        return error.cause
    if models.disk_full(error):
        return "disk"
    if isinstance(error, (OperationalError, peewee.InterfaceError, MaxConnectionsExceeded)):
        return "database"
    if redis and isinstance(error, redis.RedisError):
        return "sessions"
    return None


def fault(cause, error):
    """Log that `cause` failed: one line per cause every FAULT_LOG_EVERY seconds (per
    process), which counts the failures it did not log."""
    now = time.monotonic()
    with _faults_lock:
        logged_at, untold = _faults.get(cause, (now - FAULT_LOG_EVERY, 0))
        if now - logged_at < FAULT_LOG_EVERY:
            _faults[cause] = (logged_at, untold + 1)
            return
        _faults[cause] = (now, 0)
    error = getattr(error, "error", error)
    said = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
    log.error("Unavailable: the %s (%s)%s; told at most once in %d s.", FAULT_NAMES[cause], said,
              f", {untold} more time(s) since the last such line" if untold else "",
              FAULT_LOG_EVERY)


def answer_503_when_down(function):
    """`function` (a handler, a hook) answering a 503 when a part of the deployment it needs
    fails, which fault() logs; an answer it streams is broken off instead (streamed())."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            result = function(*args, **kwargs)
        except Exception as error:
            cause = fault_cause(error)
            if cause is None:
                raise
            fault(cause, error)
            raise HTTPError(503, UNAVAILABLE.get(cause, UNAVAILABLE["database"]),
                            headers={"Retry-After": str(RETRY_AFTER)}) from None
        return streamed(result) if isinstance(result, types.GeneratorType) else result
    return wrapper


class BrokenOff(ConnectionResetError):
    """Raised to the server to break off an answer it is sending: waitress and gunicorn close
    the connection without ending the answer, and take it for a connection lost, which they do
    not log (waitress when told so: WAITRESS's log_socket_errors)."""


def streamed(chunks):
    """The chunks of a streamed answer (the CSV export), which a failing part of the deployment
    may break off. Before the first chunk it is the usual 503. After it, the status has gone
    out: the fault is logged in fault()'s one line, and the connection broken off without the
    chunk that ends the answer, so the client can tell the file is incomplete rather than get
    one that looks whole."""
    yield answer_503_when_down(next)(chunks, "")
    try:
        yield from chunks
    except Exception as error:
        cause = fault_cause(error)
        if cause is None:
            raise
        fault(cause, error)
        raise BrokenOff(errno.ECONNRESET, f"the {FAULT_NAMES[cause]} failed") from None


class AnswerWhenDown:
    """A Bottle plugin: answer_503_when_down() around each route of the app it is installed on."""
    name, api = "answer_when_down", 2

    def apply(self, callback, route):
        return answer_503_when_down(callback)


class Breaker:
    """Calls to a Redis that may be down. After a failure none is made for REDIS_RETRY_EVERY
    seconds, then one caller tries again: a dead or frozen Redis costs one try (and at most
    one REDIS_TIMEOUT) per interval, not one per request."""

    def __init__(self, cause):
        self.cause, self.retry_at, self.error = cause, 0, None

    def call(self, function, *args):
        """function(*args); Unavailable if the service fails, or failed lately."""
        if self.retry_at:
            if time.monotonic() < self.retry_at:
                raise Unavailable(self.cause, self.error)
            self.retry_at = time.monotonic() + REDIS_RETRY_EVERY    # the others wait for this try
        try:
            result = function(*args)
        except Exception as error:
            cause = fault_cause(error)
            if cause is None:
                raise
            cause = cause if cause == "disk" else self.cause    # (a full disk: no back-off)
            self.retry_at, self.error = (0 if cause == "disk" else
                                         time.monotonic() + REDIS_RETRY_EVERY), error
            fault(cause, error)
            raise Unavailable(cause, error) from error
        if self.retry_at:
            self.retry_at = 0
            log.warning("The %s answers again.", self.cause)
        return result


_sessions = Breaker("sessions")


def with_timeouts(url):
    """A redis:// URL with REDIS_TIMEOUTS, unless it sets its own."""
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    query.update({name: str(value) for name, value in REDIS_TIMEOUTS.items() if name not in query})
    return parts._replace(query=urllib.parse.urlencode(query)).geturl()


def sessions_answer(s, create):
    """Load the visitor's session `s` from its store (Beaker does it when first asked). True
    if it answered. If it is down: False where this request can do without (a shop page that
    is the same for everyone: a logged-in visitor sees it as everyone does), else a 503."""
    try:
        _sessions.call(getattr, s, "is_new")
        return True
    except Unavailable:
        route = request.environ.get("bottle.route")
        if create or route is None or not route.config.get("cache"):
            raise
        return False


def save_session():
    """Write the visitor's session now if this request used it, rather than (as Beaker would)
    while the answer's headers go out: a store that fails then makes a clear 503."""
    s = request.environ.get("beaker.session")
    if s is not None and s.accessed():
        s.__dict__["persist"] = lambda: None    # what Beaker calls then: nothing left to do
        _sessions.call(type(s).persist, s)


# --- Health: is this process up, and can it serve? -----------------------------------------

READY_TIMEOUT = 2           # seconds /readyz waits for the parts it asks
_health_checks = concurrent.futures.ThreadPoolExecutor(max_workers=4,
                                                       thread_name_prefix="storefront-health")
_redis_clients = {}


def redis_client(url):
    """A client of the Redis at `url`, with REDIS_TIMEOUTS."""
    if url not in _redis_clients:
        _redis_clients[url] = models.load_driver("redis").Redis.from_url(url, **REDIS_TIMEOUTS)
    return _redis_clients[url]


def _ask_database():
    with db.connection_context():
        db.execute_sql("SELECT 1")


def dependencies(s):
    """{part: a function that fails unless it answers}: the database, and the session store
    and the cache where they are Redis."""
    checks = {"database": _ask_database}
    for name, url in (("sessions", s.session_url), ("cache", s.cache_url)):
        if url.startswith("redis://"):
            checks[name] = redis_client(url).ping
    return checks


def ask_each(checks):
    """{part: "ok" or what went wrong}, each asked in a thread of its own and given
    READY_TIMEOUT seconds, all at once."""
    asked = {name: _health_checks.submit(check) for name, check in checks.items()}
    deadline, said = time.monotonic() + READY_TIMEOUT, {}
    for name, future in asked.items():
        try:
            future.result(timeout=max(0, deadline - time.monotonic()))
            said[name] = "ok"
        except concurrent.futures.TimeoutError:
            said[name] = f"no answer within {READY_TIMEOUT} s"
        except Exception as error:
            said[name] = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
    return said


def health_checks(app):
    """Answer /healthz (this process answers: 200, asking nothing else) and /readyz (200 if
    the database and, where configured, Redis answer; else 503 naming what does not), as
    JSON, before the layers and hooks of a page: no session, no cache, no database but
    readyz's own question. A host not in STOREFRONT_ALLOWED_HOSTS is refused, as by pages."""
    def wsgi(environ, start_response):
        path = environ.get("PATH_INFO")
        if path not in ("/healthz", "/readyz"):
            return app(environ, start_response)
        if not host_allowed(environ.get("HTTP_HOST")):
            status, body = 400, {"status": "This site does not answer to that host name."}
        elif path == "/healthz":
            status, body = 200, {"status": "ok"}
        else:
            body = ask_each(dependencies(settings))
            status = 200 if set(body.values()) == {"ok"} else 503
            body = {"status": "ok" if status == 200 else "unavailable", **body}
        start_response(f"{status} {ERROR_TITLES.get(status, 'OK')}", [
            ("Content-Type", "application/json"), ("Cache-Control", "no-store")])
        return [json.dumps(body).encode()]
    return wsgi


def middleware(app, s):
    """Wrap the root Bottle app in the WSGI layers every request passes, innermost first
    (part 3's table lists them outermost first)."""
    app = closing_database(app)
    app = SessionMiddleware(app, session_options(s))
    app = session_cookies_of_old_keys(app, s)
    if s.debug:
        app = debug_toolbar(app)
    app = health_checks(app)
    app = with_security_headers(app)
    app = gzip_text(app)
    return log_requests(app)


# --- Logs ---------------------------------------------------------------------------------------
# Whatever the server (python app.py, waitress-serve, gunicorn), the shop writes its own log to
# stderr: one line per request, one record per error with its traceback, the business events
# (orders, password resets, admin changes) and the faults of what it depends on, each with the
# id of the request it happened in. STOREFRONT_LOG_FORMAT=json writes each as one JSON object.

LOG_PATH_MAX = 200          # characters of a logged path and query string (a URL may be huge)
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_request_id = contextvars.ContextVar("request_id", default="-")


class _RequestContext(logging.Filter):
    """Give every record the id of the request it was logged in ("-" outside one)."""

    def filter(self, record):
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get()
        return True


log.addFilter(_RequestContext())       # (a handler's filter, for the loggers under it too)


class JSONFormatter(logging.Formatter):
    """One JSON object a line, for log shippers: the time, level, logger, message, request id,
    the fields a record was given (extra=...), and a traceback as one string."""
    PLAIN = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

    def format(self, record):
        entry = {"time": datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc)
                 .isoformat(timespec="milliseconds"), "level": record.levelname,
                 "logger": record.name, "message": record.getMessage()}
        entry.update((k, v) for k, v in vars(record).items() if k not in self.PLAIN)
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(s):
    """Send the shop's log lines to stderr in the format of STOREFRONT_LOG_FORMAT, whatever
    the server did with the root logger (waitress-serve sets one up, gunicorn does not),
    unless the "storefront" logger has a handler already (from a program that embeds the shop,
    or the tests, which read the records)."""
    if log.handlers:
        return
    log.propagate = False       # (or a handler of the root would write each line again)
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_RequestContext())
    handler.setFormatter(JSONFormatter() if s.log_format == "json" else logging.Formatter(
        "[%(asctime)s] %(levelname)s %(request_id)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)


def log_requests(app):
    """The outermost layer: give the request an id (the X-Request-ID a trusted proxy sent, or a
    new one), send it back as X-Request-ID, and log one line when the answer is done; an error
    Bottle caught is logged as one record with its traceback."""
    def wsgi(environ, start_response):
        started, answer = time.perf_counter(), {}
        sent = environ.get("HTTP_X_REQUEST_ID", "")
        rid = sent if REQUEST_ID.fullmatch(sent) and _is_trusted_proxy(
            environ.get("REMOTE_ADDR")) else secrets.token_hex(8)
        token = _request_id.set(rid)
        environ["storefront.request_id"] = rid
        environ["wsgi.errors"] = _ErrorsToLog(environ)

        def start(status, headers, exc_info=None):
            answer["status"] = int(status[:3])
            return start_response(status, headers + [("X-Request-ID", rid)], exc_info)

        def done():
            _log_request(environ, answer.get("status"), time.perf_counter() - started)
        try:
            return _Finally(app(environ, start), done)
        except Exception:
            log.exception("%s %s failed", environ["REQUEST_METHOD"], environ.get("PATH_INFO"))
            start_response("500 Internal Server Error", [
                ("Content-Type", "text/plain; charset=utf-8"), ("X-Request-ID", rid)],
                sys.exc_info())
            answer["status"] = 500
            return _Finally([b"Server error. It has been logged."], done)
        finally:
            _request_id.reset(token)
    return wsgi


def _log_request(environ, status, seconds):
    """The line of one request: its method, path (cut at LOG_PATH_MAX), status, duration, user."""
    user = environ.get("storefront.user")
    target = _masked_path(environ, environ.get("PATH_INFO", "")) + (
        "?" + environ["QUERY_STRING"] if environ.get("QUERY_STRING") else "")
    if len(target) > LOG_PATH_MAX:
        target = target[:LOG_PATH_MAX] + "..."
    took = round(seconds * 1000, 1)
    log.getChild("requests").info(
        '"%s %s" %s %.0f ms user=%s', environ["REQUEST_METHOD"], target, status or "-", took,
        user.id if user else "-", extra={
            "request_id": environ["storefront.request_id"], "method": environ["REQUEST_METHOD"],
            "path": target, "status": status, "duration_ms": took,
            "user_id": user.id if user else None})


def log_event(event, message, *args, **fields):
    """Log a business event (an order placed, a password reset, an admin change): a line to
    read, and with STOREFRONT_LOG_FORMAT=json, the event's name and `fields` to query."""
    log.info(message, *args, extra=dict(fields, event=event))


class _ErrorsToLog:
    """environ["wsgi.errors"] for the app: what it writes there (Bottle writes the traceback of
    an error it caught) becomes one log record with the request's id, not lines of bare text."""

    def __init__(self, environ):
        self.method, self.path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        self.request_id = environ["storefront.request_id"]

    def write(self, text):
        failing = sys.exc_info()
        extra = {"request_id": self.request_id}
        if failing[0] is not None:          # Bottle writes while handling the exception
            log.error("%s %s failed", self.method, self.path[:LOG_PATH_MAX], exc_info=failing,
                      extra=extra)
        elif text.strip():
            log.error("%s", text.strip(), extra=extra)

    def writelines(self, lines):
        self.write("".join(lines))

    def flush(self):
        pass


class _Finally:
    """A response body that calls `then` once the server is done with it (closed it)."""

    def __init__(self, body, then):
        self.body, self.then = body, then

    def __iter__(self):
        return iter(self.body)

    def close(self):
        try:
            if hasattr(self.body, "close"):
                self.body.close()
        finally:
            self.then()


# Bottle 0.13 copies a mounted app's routes into the root: request hooks and error pages live
# on the root, where they run for every part of the site. A plugin belongs to the app whose
# routes it wraps: the page cache serves the store's pages (those declared with cache=True).
# Every part answers a 503 when a part of the deployment it needs is down.
for _part in (store, shop, accounts, admin, api, playground, debug):
    _part.install(AnswerWhenDown())
store.install(PageCache())
root.merge(store)
root.merge(shop)
root.mount("/accounts/", accounts)
root.mount("/admin/", admin)
root.mount("/api/", api)
root.mount("/playground/", playground)
root.mount("/__debug__/", debug)
# The root's hooks, in the order part 3's table lists them.
for _hook in (believe_trusted_proxies_only, check_host, ignore_broken_cookies, refuse_bad_text,
              authenticate_token, check_csrf, sign_in_from_proxy, models.reprice_if_new_day):
    root.add_hook("before_request", answer_503_when_down(_hook))
for _hook in (no_store_for_one_visitor, save_session):
    root.add_hook("after_request", answer_503_when_down(_hook))


def closing_database(app):
    """Close the request's database connection, if it opened one, when the request ends (after
    the last chunk of a streamed CSV export, for instance)."""
    def close():
        if not db.is_closed():
            db.close()

    def wsgi(environ, start_response):
        try:
            return _Finally(app(environ, start_response), close)
        except BaseException:
            close()
            raise
    return wsgi


GZIP_TYPES = ("text/", "application/json", "application/javascript", "image/svg+xml")
GZIP_SIZES = range(1024, 4 * 1024 * 1024)      # smaller gains nothing; bigger is not ours


def gzip_text(app):
    """Compress a text answer (a page, a stylesheet, a script, JSON, an icon) for a client
    whose Accept-Encoding says gzip: a stylesheet travels at a fifth of its size. Only whole
    answers are compressed, those that say their Content-Length: a streamed one (the CSV
    export) goes through as it comes, chunk by chunk."""
    def wsgi(environ, start_response):
        started = {}

        def start(status, headers, exc_info=None):
            started.update(status=status, headers=headers, exc_info=exc_info)
            if not _compressible(headers):
                return start_response(status, headers, exc_info)
            headers.append(("Vary", "Accept-Encoding"))     # caches keep both kinds apart
            if not _accepts_gzip(environ):
                return start_response(status, headers, exc_info)
            started["gzip"] = True
            return lambda data: None     # the old write(): nothing here uses it

        body = app(environ, start)
        if not started.get("gzip"):
            return body
        data = gzip.compress(whole_body(body), compresslevel=6, mtime=0)
        headers = [(k, v) for k, v in started["headers"] if k.lower() != "content-length"]
        start_response(started["status"], headers + [
            ("Content-Encoding", "gzip"), ("Content-Length", str(len(data)))], started["exc_info"])
        return [data]
    return wsgi


def whole_body(body):
    """A WSGI answer's body read whole, then closed as a server would close it."""
    try:
        return b"".join(body)
    finally:
        if hasattr(body, "close"):
            body.close()


def _compressible(headers):
    found = {name.lower(): value for name, value in headers}
    return (found.get("content-type", "").startswith(GZIP_TYPES)
            and "content-encoding" not in found and "content-range" not in found
            and found.get("content-length", "").isdigit()
            and int(found["content-length"]) in GZIP_SIZES)


def _accepts_gzip(environ):
    """Accept-Encoding names gzip (and not with q=0); HEAD has no body to compress."""
    codings = [c.strip().lower() for c in environ.get("HTTP_ACCEPT_ENCODING", "").split(",")]
    return environ["REQUEST_METHOD"] != "HEAD" and any(
        c.split(";")[0].strip() in ("gzip", "*") and not re.search(r"q=0(\.0*)?$", c)
        for c in codings)


def build(s=settings):
    """Open the database and wrap the root app in its middleware: the WSGI application."""
    global settings, cache
    if s.problems:
        raise ImproperlyConfigured("; ".join(s.problems))
    s.secret()      # made now, or its problem told now, rather than at the first login
    settings = s
    configure_logging(s)
    cache = make_cache(s)
    open_database(s)
    return middleware(root, s)


class _Application:
    """The WSGI callable for waitress-serve and gunicorn. Importing app.py does nothing: the
    database is opened and migrated by the first request (or by `python app.py`)."""

    def __init__(self):
        self._app, self._lock = None, threading.Lock()

    def __call__(self, environ, start_response):
        if self._app is None:
            with self._lock:
                if self._app is None:
                    try:
                        self._app = build(settings)
                    except Exception as error:      # the database is down: tried again next time
                        cause = fault_cause(error)
                        if cause is None:
                            raise
                        fault(cause, error)
                        start_response("503 Service Unavailable", [
                            ("Content-Type", "text/plain; charset=utf-8"),
                            ("Retry-After", str(RETRY_AFTER))])
                        return [f"503 Service unavailable\n{UNAVAILABLE[cause]}\n".encode()]
        return self._app(environ, start_response)


application = _Application()


###############################################################################
# 16. CLI
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


def cmd_clearsessions(args):
    """Delete what visitors left behind (Django's clearsessions; run it daily, from cron or a
    systemd timer): expired sessions, abandoned carts with their items, old failed logins."""
    sessions = clear_expired_session_files(settings)
    carts, items = models.purge_abandoned_carts(
        models.utcnow() - datetime.timedelta(seconds=settings.anonymous_session_timeout))
    failures = models.purge_old_login_failures()
    print(f"Deleted {sessions} expired session(s), {carts} abandoned cart(s) with {items} "
          f"item(s), {failures} old failed login(s).")


def clear_expired_session_files(s):
    """Delete the session files idle past their lifetime (Beaker never deletes them; Redis
    expires its keys itself), and their lock files; how many sessions. A file's time is its
    session's last save."""
    now, deleted = time.time(), 0
    for dirpath, _, files in os.walk(os.path.join(s.data_dir, "sessions")):
        for name in files:
            path = os.path.join(dirpath, name)
            with contextlib.suppress(OSError):
                idle = now - os.path.getmtime(path)
                if idle > s.anonymous_session_timeout and (
                        name.endswith(".lock") or idle > s.session_timeout
                        or not _logged_in(s, name)):
                    os.remove(path)
                    deleted += name.endswith(".cache")
    return deleted


def _logged_in(s, filename):
    """Whether the session kept in the file `filename` (its id + ".cache") has a login."""
    from beaker.session import Session
    options = {k.split(".", 1)[1]: v for k, v in session_options(s).items()}
    options.pop("key", None)
    stored = Session({}, id=filename.split(".")[0], use_cookies=False, **options)
    return bool(stored.get("user_id"))


def cmd_runserver(args):
    """Serve the shop; with --reload, this process only restarts the one that serves."""
    if args.reload and not os.environ.get("BOTTLE_CHILD"):
        return restart_on_changes()
    host, port = parse_address(args.address)
    allow_listening_address(host)
    if args.debug:
        settings.debug = True
    try:
        app = build(settings)   # (which sets up the log first: opening the database logs)
    except (OperationalError, OSError) as error:
        raise SystemExit(f"Cannot open the database {settings.database_url}: {error}. "
                         f"Is the data dir ({settings.data_dir}) writable?")
    # Waitress logs every queued request under load ("Task queue depth"): noise, and slow.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    logging.getLogger("waitress").handlers = log.handlers
    if args.quiet:
        log.getChild("requests").setLevel(logging.WARNING)
    if settings.debug:
        app = templates_read_afresh(app)
    server = listen(app, host, port, args.threads)
    if not args.no_demo and not Product.select().exists():
        print("First start: loading the demo shop ...", flush=True)
        models.seed(products=args.products)
        print(demo_admin_notice())
    print(f"Storefront is running at http://{host if ':' not in host else f'[{host}]'}:{port}/"
          f"  (admin: /admin/, lessons: /playground/; Ctrl+C stops it)", flush=True)
    if not is_loopback(host):
        print("Other machines can reach it too: run `python app.py check --deploy` before a "
              "real deployment.", flush=True)
    serve(server, app, reload=args.reload, graceful_timeout=args.graceful_timeout)


# How python app.py sets up waitress. Its defaults (100 connections, 2 minutes before an idle one
# is closed) let 100 idle or trickling connections shut every visitor out: room for many more
# (each costs a file descriptor, not a thread), and idle ones closed sooner. An internet-facing
# site still belongs behind nginx, which holds slow clients at no cost to the shop. Waitress
# deletes X-Forwarded-For and -Proto unless it trusts the proxy that sent them (one address
# at most): listen() has it pass them on as they came when STOREFRONT_TRUSTED_PROXIES is set,
# and the shop believes them from those proxies only (believe_trusted_proxies_only, part 10),
# as it does under gunicorn.
WAITRESS = {"connection_limit": 1000, "channel_timeout": 30, "cleanup_interval": 5,
            "ident": "storefront",
            "log_socket_errors": False}     # a lost connection (BrokenOff) is no traceback


def listen(app, host, port, threads):
    """A waitress server of `app` that has taken its port: if the port is taken, say only that."""
    import waitress
    _raise_open_files_limit(WAITRESS["connection_limit"] + 100)
    try:
        server = waitress.create_server(app, host=host, port=port, threads=threads, **WAITRESS,
                                        clear_untrusted_proxy_headers=not settings.trusted_proxies)
    except OSError as error:
        raise SystemExit(f"Cannot listen on {host}:{port}: {error.strerror or error}. "
                         f"Is another server running there? Try: python app.py runserver "
                         f"{port + 1}")
    server.channel_class = _channel_with_security_headers()
    return server


def _raise_open_files_limit(wanted):
    """Each connection holds a file descriptor: allow `wanted`, if the system lets us."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        limit = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, limit), hard))


def _channel_with_security_headers():
    """waitress's connection class, whose own error answers (a malformed request 400, headers
    too large 431) carry the security headers every answer of the app carries."""
    from waitress.channel import HTTPChannel
    from waitress.task import ErrorTask

    class SecureErrorTask(ErrorTask):
        def execute(self):
            self.response_headers.extend(SECURITY_HEADERS)
            super().execute()

    return type("SecureChannel", (HTTPChannel,), {"error_task_class": SecureErrorTask})


class _Waitress(bottle.ServerAdapter):
    """Bottle's adapter for a waitress server made already, so that bottle.run() runs it."""

    def run(self, handler):
        self.options["server"].run()


def serve(server, app, reload=False, graceful_timeout=30):
    """Run the server until Ctrl+C or SIGTERM; with reload, also until a module of the code
    changes, when Bottle's reloader ends this process with status 3 and its parent starts a
    new one."""
    import signal
    if reload:
        # The reloader stops the server with a Ctrl+C of its own (interrupt_main), which does
        # nothing where Ctrl+C is ignored, as in a server that a script started in the background.
        signal.signal(signal.SIGINT, signal.default_int_handler)
    else:
        signal.signal(signal.SIGTERM, lambda signum, frame: threading.Thread(
            target=drain, args=(server, graceful_timeout), daemon=True).start())
    try:
        bottle.run(app, server=_Waitress(server=server), reloader=reload, quiet=True)
    except SystemExit as leaving:
        if leaving.code == 3:
            print("The code changed: restarting ...", flush=True)
        raise
    server.task_dispatcher.shutdown(timeout=1)


def drain(server, timeout):
    """SIGTERM (systemctl stop, docker stop, kill): take no new connection, let the requests in
    flight finish, for `timeout` seconds at most, then end the server: `python app.py` exits
    with status 0. (Signal handlers run in the main thread, which runs waitress's loop: this
    runs in a thread of its own, and hands the loop its work through the server's trigger.)"""
    from waitress import wasyncore
    log.info("SIGTERM: finishing the requests in flight (for %d s at most), taking no new ones",
             timeout)
    # The listening socket closes (waitress's server.close() would close the trigger too).
    server.trigger.pull_trigger(lambda: wasyncore.dispatcher.close(server))
    deadline = time.monotonic() + timeout
    while True:
        busy = [c for c in list(server.active_channels.values()) if _busy(c)]
        server.trigger.pull_trigger(lambda: [c.handle_close() for c in list(
            server.active_channels.values()) if not _busy(c)])     # idle keep-alives
        tasks = server.task_dispatcher
        if not (busy or tasks.queue or tasks.active_count) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    if busy:
        log.warning("Stopped with %d request(s) unfinished after %d s", len(busy), timeout)
    server.trigger.pull_trigger(lambda: [d.close() for d in list(server._map.values())])


def _busy(channel):
    """A connection with a request in flight: read and queued, being answered, or its answer
    still being sent."""
    return bool(channel.requests or channel.total_outbufs_len)


def restart_on_changes():
    """runserver --reload (Bottle's reloader): run `python app.py runserver ...` again in a
    child process, and again whenever a module it loaded changes. This process opens no
    database and takes no port. Each child opens the database, applying the migrations added
    since, and takes the port; the demo shop goes only into a database without products, so
    the first child loads it, once."""
    import signal

    def stop(signum, frame):        # as Ctrl+C does: Bottle removes the lock file that the
        raise KeyboardInterrupt     # child watches, and the child stops too
    signal.signal(signal.SIGTERM, stop)
    print("Watching the code for changes (--reload): a change restarts the server.", flush=True)
    bottle.run(reloader=True)


def templates_read_afresh(app):
    """Middleware for runserver --debug: Bottle reads each template afresh for every request
    (in debug mode; otherwise it compiles a template once), and an edit of a template makes the
    cached pages out of date, so that the edit shows at the next reload."""
    bottle.debug(True)
    last_edit = _templates_edited_at()

    def wsgi(environ, start_response):
        nonlocal last_edit
        edited = _templates_edited_at()
        if edited != last_edit:
            last_edit = edited
            invalidate_cache()
        return app(environ, start_response)
    return wsgi


def _templates_edited_at():
    return max(os.stat(os.path.join(folder, name)).st_mtime_ns
               for folder, _, names in os.walk(VIEWS) for name in names)


def is_loopback(host):
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def allow_listening_address(host):
    """Unless STOREFRONT_ALLOWED_HOSTS says otherwise, the site answers to the address it
    listens on too; listening on every address (0.0.0.0, ::), to this machine's name and
    addresses."""
    if settings.allowed_hosts_given:
        return
    names = [host]
    if host in ("0.0.0.0", "::"):
        names = [socket.gethostname()]
        with contextlib.suppress(OSError):
            names += [info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None)]
    settings.allowed_hosts += [f"[{name}]" if ":" in name else name.lower() for name in names]


def demo_admin_notice():
    """Create the demo admin (only ever on a fresh demo database) and say how to log in."""
    password = secrets.token_urlsafe(9)
    if models.create_demo_admin(password) is None:
        return ""
    return (f"Demo admin created: log in at /accounts/login as admin / {password}\n"
            f"(shown once: write it down. Lost it? `python app.py changepassword admin` sets a "
            f"new one; `python app.py createsuperuser` makes your own admin.)")


def configuration_problems(s):
    """The settings that cannot work at all: start-up would stop on them."""
    problems = list(s.problems)
    if s.secret_key_in_data_dir and os.path.exists(os.path.join(s.data_dir, "secret_key")):
        try:                # (a key that is not there yet is no problem: the start makes one)
            s.secret()
        except ImproperlyConfigured as error:
            problems.append(str(error))
    return problems


def deployment_problems(s, processes=1, machines=1):
    """The settings that are unsafe for a real deployment of `processes` server processes on
    each of `machines` machines (Django's check --deploy)."""
    checks = _unsafe_anywhere(s) + _unsafe_at_scale(s, processes, machines)
    problems = [message for failed, message in checks if failed]
    try:
        open_database(s)
        if models.demo_admin_unchanged():
            problems.append("The demo admin still has the password printed at the first "
                            "start: change it (/accounts/password) or delete the account.")
    except (OperationalError, OSError) as error:
        problems.append(f"Cannot open the database {s.database_url}: {error}")
    urls = {"sessions": s.session_url, "cache": s.cache_url}
    said = ask_each({name: check for name, check in dependencies(s).items() if name in urls})
    return problems + [f"Cannot reach the {FAULT_NAMES[name]} at {urls[name]}: {answer}"
                       for name, answer in said.items() if answer != "ok"]


def _unsafe_anywhere(s):
    """(whether it fails, what to do) for each setting unsafe in any real deployment."""
    local = all(host in LOCAL_HOSTS + ("localhost",) for host in s.allowed_hosts)
    return [
        (s.debug, "STOREFRONT_DEBUG is on: pages show internals (the debug toolbar to "
                  "internal addresses). Turn it off."),
        (not s.secure_cookies, "STOREFRONT_SECURE_COOKIES is off: a session cookie sent "
                               "over plain HTTP can be copied on the way. Serve the site "
                               "over HTTPS and turn it on."),
        (local, "STOREFRONT_ALLOWED_HOSTS allows localhost names only: set it to the names "
                "the site is reached by (shop.example.com)."),
        ("*" in s.allowed_hosts, "STOREFRONT_ALLOWED_HOSTS is *: any Host header is "
                                 "believed, and it goes into the links of emails."),
        (not s.secret_key_in_data_dir and len(s.secret_key) < 32,
         "STOREFRONT_SECRET_KEY is shorter than 32 characters: make a long random one."),
        (not s.email_url, "STOREFRONT_EMAIL_URL is empty: mail (password reset links) is "
                          "written to files and printed, not sent. Set smtp://..."),
        (s.password_iterations < 600_000, "STOREFRONT_PASSWORD_ITERATIONS is below 600000: "
                                          "stolen password hashes would be cheap to crack."),
        (s.remote_user_header and not s.trusted_proxies,
         f"STOREFRONT_REMOTE_USER_HEADER is set ({s.remote_user_header}) but "
         f"STOREFRONT_TRUSTED_PROXIES is empty: the header is believed from no one, so no one "
         f"is signed in by the proxy. Set it to the address of the proxy that signs users in."),
    ]


def _unsafe_at_scale(s, processes, machines):
    """(whether it fails, what to do) for each setting unsafe with several processes or
    machines. PostgreSQL or Redis in the settings say that several machines may run, whatever
    `machines` says."""
    sqlite = s.database_url.startswith("sqlite")
    several_machines = machines > 1 or not sqlite or "redis://" in s.session_url + s.cache_url
    several_processes = processes > 1 or several_machines
    return [
        (s.secret_key_in_data_dir and several_machines,
         "The secret key is generated into the data dir, and several machines may run: "
         "each would make its own, so their sessions and links fail on the others. Set "
         "STOREFRONT_SECRET_KEY, the same everywhere."),
        (sqlite and several_processes, "SQLite with several processes: use PostgreSQL "
                                "(STOREFRONT_DATABASE_URL=postgresql://...)."),
        (s.session_url == "memory" and several_processes,
         "Sessions in memory with several processes: each knows only its own logins. Set "
         "STOREFRONT_SESSION_URL=redis://..."),
        (s.session_url == "" and several_machines,
         "Sessions in the data dir's files with several machines: each knows only its own "
         "logins. Set STOREFRONT_SESSION_URL=redis://..."),
        (s.cache_url == "memory" and several_processes,
         "The memory cache with several processes: a change made through one leaves the "
         "others' pages stale for minutes. Set STOREFRONT_CACHE_URL=redis://..."),
    ]


def server_problems(s, server):
    """What the server named by `check --deploy --server` would get wrong with these settings."""
    if server == "waitress-serve" and s.trusted_proxies:
        return ["waitress-serve deletes the X-Forwarded-For and -Proto headers of the proxies "
                "in STOREFRONT_TRUSTED_PROXIES unless it is started with "
                "--no-clear-untrusted-proxy-headers (as the README's line is): without it every "
                "visitor is the proxy's address, and cookies lose Secure. (python app.py and "
                "gunicorn pass them on.)"]
    return []


def cmd_check(args):
    problems = configuration_problems(settings)
    if args.deploy:
        print(f"Checking for {args.processes} server process(es) on {args.machines} "
              f"machine(s) (--processes N, --machines N).")
        problems += deployment_problems(settings, args.processes, args.machines)
        problems += server_problems(settings, args.server)
    if not problems:
        problems += sum_problems(args.repair)
    for problem in problems:
        print("- " + problem)
    if problems:
        raise SystemExit(f"{len(problems)} problem(s) found.")
    print("No problems found.")


def sum_problems(repair):
    """The sums kept on orders and customers (models.KEPT_SUMS) that are not what their
    rows add up to, set right with `repair`."""
    try:
        open_database(settings)
        wrong = models.check_sums(repair)
    except (OperationalError, OSError) as error:
        return [f"Cannot open the database {settings.database_url}: {error}"]
    if repair:
        print(*(f"Repaired {column} of {n:,} rows." for column, n in wrong.items() if n),
              sep="\n")
        return []
    return [f"{column} is wrong in {n:,} rows: `check --repair` sets it right."
            for column, n in wrong.items() if n]


def cmd_migrate(args):
    print(models.describe_applied(args.applied))    # opening the database applied them


def cmd_makemigrations(args):
    """Print the migration that makes the database what the models declare (Django's
    makemigrations). The database is migrated first: what differs then, no migration does."""
    if args.applied:
        print("# " + models.describe_applied(args.applied))
    changes = models.schema_changes()
    if not changes:
        print("No changes detected: the database is what the models declare.")
        return
    answer = (lambda question: False) if args.no_input else ask_yes_no
    changes = models.pair_renames(changes, answer)
    try:
        name, source = models.migration_code(changes)
    except models.ValidationError as error:
        raise SystemExit(str(error))
    print("# The models and the database differ:")
    print(*(f"#   {change.about}" for change in changes), sep="\n")
    print(f"# Paste this function into models.py (part 9, Migrations) above `MIGRATIONS = [`,\n"
          f"# and add {name} to the end of that list; `python app.py migrate` applies it\n"
          f"# (and so does the next start).\n")
    print(source, end="")


def ask_yes_no(question):
    """Ask a yes/no question on the console (on stderr: what goes to stdout may be kept)."""
    print(question + " [y/N] ", end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def cmd_seed(args):
    started = time.perf_counter()
    try:
        counts = models.seed(products=args.products, reset=args.reset, orders=args.orders)
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
    problems = [models.username_problem(username),
                *models.password_problems(password, username, email)]
    if any(problems):
        raise SystemExit(" ".join(filter(None, problems)))
    try:
        User.create_user(username, email, password, is_staff=True, is_superuser=True)
    except models.ValidationError as error:
        raise SystemExit(str(error))
    print(f"Superuser {username!r} created.")


def cmd_changepassword(args):
    """Set a user's password from the console (a lost demo admin password, say)."""
    user = User.get_or_none(User.username_key == models.username_key(args.username))
    if user is None:
        raise SystemExit(f"There is no user {args.username!r}.")
    password = getpass.getpass(f"New password for {user.username}: ")
    if getpass.getpass("New password (again): ") != password:
        raise SystemExit("The passwords differ.")
    problems = models.password_problems(password, user.username, user.email)
    if problems:
        raise SystemExit(" ".join(problems))
    user.set_password(password)
    user.save()
    print(f"Password changed for {user.username!r}.")


def cmd_backup(args):
    """Copy the SQLite database to a file while the shop keeps running (SQLite's online backup)."""
    if not models.is_sqlite():
        raise SystemExit("backup copies an SQLite database; for PostgreSQL use pg_dump.")
    import sqlite3
    with contextlib.closing(sqlite3.connect(args.path)) as target:
        db.connection().backup(target)
    print(f"Backed up {settings.database_url} to {args.path}.")


def cmd_routes(args):
    for r in list_routes():
        print(f"{r['method']:7} {r['path']:45} {r['handler']}")


def shell_namespace():
    """What `python app.py shell` starts with (Django's shell imports the models too): this
    module as `app`, the models, the database and the ORM's helpers, so that the answer of every
    exercise of the playground runs there as its lesson page shows it."""
    namespace = {"app": sys.modules[__name__], "models": models, "db": db, "settings": settings,
                 "fn": fn, "JOIN": JOIN, "SQL": SQL, "Case": Case, "prefetch": prefetch,
                 "Decimal": Decimal, "capture_queries": capture_queries}
    namespace.update({model.__name__: model for model in models.MODELS})
    return namespace


def cmd_shell(args):
    import code
    code.interact("Storefront shell: app is app.py, the models are imported, and so are fn, JOIN, "
                  "SQL, Case, prefetch, Decimal and capture_queries; db is the database.",
                  local=shell_namespace())


def make_parser():
    """The commands and their flags."""
    parser = argparse.ArgumentParser(prog="python app.py", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command")
    _runserver_parser(commands)
    commands.add_parser("migrate", help="apply the schema migrations not applied yet")
    make = commands.add_parser("makemigrations",
                               help="print the migration that brings the database to the models")
    make.add_argument("--no-input", action="store_true",
                      help="ask nothing: a column that went and one that came are no rename")
    seed = commands.add_parser("seed", help="load the demo shop")
    seed.add_argument("--products", type=int, default=1000)
    seed.add_argument("--orders", type=int, default=None,
                      help="orders to make (default: two a customer), with a customer for five")
    seed.add_argument("--reset", action="store_true", help="replace the shop's existing data")
    su = commands.add_parser("createsuperuser", help="create a staff user with every permission")
    su.add_argument("--username")
    su.add_argument("--email")
    su.add_argument("--no-input", action="store_true",
                    help="read the password from STOREFRONT_SUPERUSER_PASSWORD")
    change = commands.add_parser("changepassword", help="set a user's password (prompts)")
    change.add_argument("username")
    backup = commands.add_parser("backup", help="copy the SQLite database while it is in use")
    backup.add_argument("path", help="the file to write")
    commands.add_parser("clearsessions", help="delete expired sessions, abandoned carts and "
                                              "old failed logins (daily, from cron)")
    commands.add_parser("routes", help="list every route")
    check = commands.add_parser("check", help="list the settings that cannot work")
    check.add_argument("--deploy", action="store_true",
                       help="and those unsafe for a real deployment")
    check.add_argument("--processes", type=int, default=1,
                       help="server processes on each machine (gunicorn -w N)")
    check.add_argument("--machines", type=int, default=1, help="machines that run the site")
    check.add_argument("--server", choices=("runserver", "waitress-serve", "gunicorn"),
                       help="the server that will run it, for what it does with proxy headers")
    check.add_argument("--repair", action="store_true",
                       help="set right the sums kept on orders and customers that are wrong")
    commands.add_parser("shell", help="a Python shell with the models loaded")
    return parser


def _runserver_parser(commands):
    run = commands.add_parser("runserver", help="serve the shop (the default command)")
    run.add_argument("address", nargs="?", default="127.0.0.1:8000", help="PORT or HOST:PORT")
    run.add_argument("--debug", action="store_true",
                     help="debug mode: the toolbar, and templates read afresh on each request")
    run.add_argument("--reload", action="store_true", help="restart when the code changes")
    run.add_argument("--no-demo", action="store_true", help="do not load demo data on first start")
    run.add_argument("--threads", type=int, default=4,
                     help="worker threads (waitress's default; more only help with slow I/O)")
    run.add_argument("--products", type=int, default=1000, help="demo products on first start")
    run.add_argument("--quiet", action="store_true", help="do not log each request")
    run.add_argument("--graceful-timeout", type=int, default=30, metavar="SECONDS",
                     help="on SIGTERM, how long the requests in flight may take to finish")


def main(argv):
    args = make_parser().parse_args(argv or ["runserver"])      # the default command
    if args.command == "runserver":
        return cmd_runserver(args)
    if args.command not in ("routes", "check"):
        try:        # which migrations this applies, `migrate` says
            args.applied = open_database(settings)
        except (OperationalError, OSError) as error:
            raise SystemExit(f"Cannot open the database {settings.database_url}: {error}")
    return {"migrate": cmd_migrate, "makemigrations": cmd_makemigrations, "seed": cmd_seed,
            "createsuperuser": cmd_createsuperuser, "changepassword": cmd_changepassword,
            "backup": cmd_backup, "routes": cmd_routes, "shell": cmd_shell,
            "clearsessions": cmd_clearsessions,
            "check": cmd_check}[args.command](args)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except ImproperlyConfigured as error:
        raise SystemExit(f"Storefront cannot start: {error}")
