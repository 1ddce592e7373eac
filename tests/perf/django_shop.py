"""Storefront's catalog, product and collection pages in Django, for tests/perf/bench.py to
measure beside ours.

A fair opponent, written the way Django's documentation teaches: its usual middleware
(security, sessions, CSRF, auth, messages, clickjacking), select_related(), its Paginator
(a COUNT(*), then LIMIT/OFFSET), {% url %} and {% querystring %} in templates that have the
same header, product grid, add-to-cart forms and page links as views/, compiled once (the
cached template loader) and persistent database connections (Storefront pools its own). It
reads Storefront's own SQLite file through unmanaged models. It caches no page and no
fragment ({% cache %}): Django's usual view renders every request.

A logged-in visitor costs what it costs in Storefront: the session (here in a signed cookie,
so there is no table to make), the user read from Storefront's "user" table, and the header
showing their name and cart count (one query for the items of the cart whose id the session
keeps). Storefront's password hashes are its own, so the benchmark logs in by a door of its
own: /bench-login/<user id>?cart=<cart id>&key=<key>, which exists only when the environment
variable DJANGO_SHOP_LOGIN_KEY is set (bench.py sets a random one) and answers 404 to any
other key.

    export DJANGO_SHOP_DATABASE=path/to/storefront.sqlite3
    python tests/perf/django_shop.py PORT THREADS                          # waitress
    gunicorn -w 2 -b 127.0.0.1:PORT --chdir tests/perf django_shop:application

It needs django (5.1 or later, for {% querystring %}) and waitress or gunicorn, best in a
virtual environment of their own:
python3 -m venv ~/django-venv && ~/django-venv/bin/pip install "django<6" gunicorn waitress
"""
import datetime
import hmac
import logging
import os
import sys

import django
from django.conf import settings

DATABASE = os.environ["DJANGO_SHOP_DATABASE"]
LOGIN_KEY = os.environ.get("DJANGO_SHOP_LOGIN_KEY", "")
PAGE_SIZE = 24                  # as Storefront's catalog

TEMPLATES = {
    "layout.html": """{% load static %}<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{% if title %}{{ title }} · {% endif %}Storefront</title>
  <link rel="stylesheet" href="{% static 'css/base.css' %}">
  <link rel="stylesheet" href="{% static 'css/shop.css' %}">
  <link rel="icon" href="{% static 'img/favicon.svg' %}" type="image/svg+xml">
</head>
<body>
  <a class="skip-link" href="#main">Skip to content</a>
  <header class="site-header">
    <nav class="container nav" aria-label="Main">
      <a class="brand" href="{% url 'home' %}"><span class="brand-mark" aria-hidden="true">◆</span> Storefront</a>
      <form class="nav-search" action="{% url 'catalog' %}" method="get" role="search" aria-label="Search the shop">
        <label class="visually-hidden" for="nav-q">Search products</label>
        <input id="nav-q" type="search" name="q" placeholder="Search products" value="{{ q }}" maxlength="100">
        {% if collection_id %}<input type="hidden" name="collection" value="{{ collection_id }}">{% endif %}
      </form>
      <ul class="nav-links">
        <li><a href="{% url 'catalog' %}">Shop</a></li>
        <li{% if user.is_authenticated %} class="nav-optional"{% endif %}><a href="{% url 'collections' %}">Collections</a></li>
        <li class="nav-optional"><a href="{% url 'playground' %}">Playground</a></li>
        {% if user.is_authenticated %}
        {% if user.is_staff %}<li><a href="{% url 'admin' %}">Admin</a></li>{% endif %}
        <li><a class="nav-account" href="{% url 'account' %}" title="Your account">{{ user.username }}</a></li>
        <li>
          <form action="{% url 'logout' %}" method="post" class="inline-form">
            {% csrf_token %}
            <button type="submit" class="link-button">Log out</button>
          </form>
        </li>
        {% else %}
        <li><a href="{% url 'login' %}">Log in</a></li>
        <li><a href="{% url 'register' %}">Register</a></li>
        {% endif %}
        <li><a class="cart-link" href="{% url 'cart' %}">Cart <span class="badge">{{ cart_count }}</span></a></li>
      </ul>
    </nav>
  </header>
  <main id="main" class="container">
    {% for message in messages %}<div class="flash flash-{{ message.tags }}" role="status">{{ message }}</div>{% endfor %}
    {% block content %}{% endblock %}
  </main>
  <footer class="site-footer">
    <div class="container">Storefront — a small shop written with Bottle, Peewee and Beaker. <a href="{% url 'playground' %}">Learn how it works</a>.</div>
  </footer>
</body>
</html>""",

    "catalog.html": """{% extends "layout.html" %}{% block content %}
<div class="catalog">
  <aside class="filters" aria-label="Filters">
    <form method="get" action="{% url 'catalog' %}" class="stack">
      {% if q %}<input type="hidden" name="q" value="{{ q }}">{% endif %}
      <label for="collection">Collection</label>
      <select id="collection" name="collection">
        <option value="">All collections</option>
        {% for c in collections %}
        <option value="{{ c.id }}" {% if c.id == collection_id %}selected{% endif %}>{{ c.title }}</option>
        {% endfor %}
      </select>
      <label for="sort">Sort by</label>
      <select id="sort" name="sort">
        {% for key, label in sorts %}
        <option value="{{ key }}" {% if key == sort %}selected{% endif %}>{{ label }}</option>
        {% endfor %}
      </select>
      <button type="submit" class="button">Apply</button>
    </form>
  </aside>
  <section class="catalog-results">
    <h1>{{ title }}</h1>
    {% if q %}<p><a href="{% url 'catalog' %}">Clear the search</a></p>{% endif %}
    {% include "results.html" with empty="No products match. Try another search or collection." %}
  </section>
</div>
{% endblock %}""",

    "collection.html": """{% extends "layout.html" %}{% block content %}
<nav class="breadcrumbs" aria-label="Breadcrumbs"><a href="{% url 'collections' %}">Collections</a> › <span>{{ collection.title }}</span></nav>
<h1>{{ collection.title }}</h1>
<p><a href="{% url 'catalog' %}?collection={{ collection.id }}">Search or sort this collection</a></p>
{% include "results.html" with empty="This collection has no products yet." %}
{% endblock %}""",

    "results.html": """{% if not page.object_list %}
<div class="empty"><p>{{ empty }}</p></div>
{% else %}
<p class="muted result-count">{{ page.paginator.count|floatformat:"g" }} product{{ page.paginator.count|pluralize }}.</p>
{% include "product_grid.html" with products=page.object_list %}
{% if page.has_other_pages %}
<nav class="pagination" aria-label="Pages">
  {% if page.has_previous %}<a rel="prev" href="{% querystring page=page.previous_page_number %}">← Previous</a>{% endif %}
  <span class="page-info">Page {{ page.number }} of {{ page.paginator.num_pages }}</span>
  {% if page.has_next %}<a rel="next" href="{% querystring page=page.next_page_number %}">Next →</a>{% endif %}
</nav>
{% endif %}
{% endif %}""",

    "product_grid.html": """<ul class="product-grid">
{% for p in products %}
  <li class="card product-card" id="product-{{ p.id }}">
    <a class="card-link" href="{% url 'product' p.id %}">
      <span class="product-thumb thumb-{{ p.thumb }}" aria-hidden="true">{{ p.title|first }}</span>
      <span class="product-title">{{ p.title }}</span>
    </a>
    <span class="product-meta">{{ p.collection.title }}</span>
    <span class="product-price">
      {% include "price.html" with price=p.price was=p.unit_price %}
    </span>
    {% include "stock.html" with product=p %}
    {% if p.inventory > 0 %}
    <form method="post" action="{% url 'cart_add' %}" class="card-action">
      {% csrf_token %}
      <input type="hidden" name="product_id" value="{{ p.id }}">
      <input type="hidden" name="quantity" value="1">
      <input type="hidden" name="next" value="{{ request.get_full_path }}#product-{{ p.id }}">
      <button type="submit" class="button button-small" aria-label="Add to cart: {{ p.title }}">Add to cart</button>
    </form>
    {% endif %}
  </li>
{% endfor %}
</ul>""",

    "price.html": """${{ price|floatformat:"2g" }}
{% if price < was %}<del class="price-was"><span class="visually-hidden">was </span>${{ was|floatformat:"2g" }}</del>{% endif %}""",

    "stock.html": """{% with stock=product.stock %}<span class="stock stock-{{ stock.0 }}">{{ stock.1 }}</span>{% endwith %}""",

    "product.html": """{% extends "layout.html" %}{% block content %}
<nav class="breadcrumbs" aria-label="Breadcrumbs">
  <a href="{% url 'catalog' %}">Shop</a> ›
  <a href="{% url 'collection' product.collection_id %}">{{ product.collection.title }}</a> ›
  <span>{{ product.title }}</span>
</nav>
<article class="product-detail">
  <div class="product-thumb product-thumb-large thumb-{{ product.thumb }}" aria-hidden="true">{{ product.title|first }}</div>
  <div class="product-info">
    <h1>{{ product.title }}</h1>
    <p class="product-price product-price-large">
      {% include "price.html" with price=product.price was=product.unit_price %}
    </p>
    <p class="stock-line">
      {% include "stock.html" %}
    </p>
    {% for promo in promotions %}
    <p class="promo">{{ promo.description }}{% if promo.discount %} — {{ promo.discount|floatformat }}% off{% endif %}{% if promo.ends_on %} until {{ promo.ends_on|date:"j M Y" }}{% endif %}</p>
    {% endfor %}
    <p>{{ product.description }}</p>
    {% if product.inventory > 0 %}
    <form method="post" action="{% url 'cart_add' %}" class="add-to-cart" novalidate>
      {% csrf_token %}
      <input type="hidden" name="product_id" value="{{ product.id }}">
      <div class="field">
        <label for="quantity">Quantity</label>
        <input id="quantity" type="number" name="quantity" value="1" min="1" max="{{ product.inventory }}" required>
      </div>
      <button type="submit" class="button">Add to cart</button>
    </form>
    {% endif %}
    {% if tags %}
    <ul class="tags" aria-label="Tags">
      {% for tag in tags %}<li><a class="tag" href="{% url 'tag' tag.label %}">{{ tag.label }}</a></li>{% endfor %}
    </ul>
    {% endif %}
    <div class="likes">
      <span class="like-count">{% if not likes %}Nobody likes this yet{% elif likes == 1 %}1 person likes this{% else %}{{ likes }} people like this{% endif %}</span>
      {% if user.is_authenticated %}
      <form method="post" action="{% url 'product_like' product.id %}" class="inline-form">
        {% csrf_token %}
        <input type="hidden" name="liked" value="{% if liked %}0{% else %}1{% endif %}">
        <button type="submit" class="button button-small button-secondary" aria-pressed="{{ liked|yesno:'true,false' }}">{% if liked %}♥ Liked{% else %}♡ Like{% endif %}</button>
      </form>
      {% else %}
      <a href="{% url 'login' %}?next={{ request.path|urlencode }}">Log in to like it</a>
      {% endif %}
    </div>
  </div>
</article>
{% endblock %}""",
}

settings.configure(
    DEBUG=False, ALLOWED_HOSTS=["*"], ROOT_URLCONF=__name__, SECRET_KEY="benchmark-only",
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATABASE,
                           "CONN_MAX_AGE": 600}},
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth",
                    "django.contrib.sessions", "django.contrib.messages",
                    "django.contrib.staticfiles"],
    MIDDLEWARE=["django.middleware.security.SecurityMiddleware",
                "django.contrib.sessions.middleware.SessionMiddleware",
                "django.middleware.common.CommonMiddleware",
                "django.middleware.csrf.CsrfViewMiddleware",
                "django.contrib.auth.middleware.AuthenticationMiddleware",
                "django.contrib.messages.middleware.MessageMiddleware",
                "django.middleware.clickjacking.XFrameOptionsMiddleware"],
    SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
    # Users are Storefront's, read by the backend below (no auth_user table is touched).
    AUTHENTICATION_BACKENDS=[f"{__name__}.StorefrontUserBackend"],
    TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates",
                "OPTIONS": {
                    # Naming the loaders turns off Django's default caching of compiled
                    # templates: ask for it, as a production setting would have it.
                    "loaders": [("django.template.loaders.cached.Loader",
                                 [("django.template.loaders.locmem.Loader", TEMPLATES)])],
                    "context_processors": ["django.template.context_processors.request",
                                           "django.contrib.auth.context_processors.auth",
                                           "django.contrib.messages.context_processors.messages",
                                           f"{__name__}.cart"]}}],
    STATIC_URL="/static/",
    USE_TZ=False,
)
django.setup()

from django.contrib.auth import login  # noqa: E402
from django.contrib.auth.backends import BaseBackend  # noqa: E402
from django.contrib.auth.base_user import AbstractBaseUser  # noqa: E402
from django.contrib.auth.signals import user_logged_in  # noqa: E402
from django.core.paginator import Paginator  # noqa: E402
from django.db import models  # noqa: E402
from django.db.models import Q, Sum  # noqa: E402
from django.http import Http404, HttpResponse  # noqa: E402
from django.shortcuts import get_object_or_404, render  # noqa: E402
from django.urls import path  # noqa: E402

# This reads Storefront's data and never writes it: no "last login" update on logging in.
user_logged_in.disconnect(dispatch_uid="update_last_login")


# Storefront's tables (models.py), unmanaged: Django never creates or alters them. An
# unmanaged model must still belong to an installed app; borrowing contenttypes' label saves
# making an app package for a one-file script.

class Shop:
    app_label, managed = "contenttypes", False


class User(AbstractBaseUser):       # password and last_login come from AbstractBaseUser
    username = models.CharField(max_length=150, unique=True)
    email = models.CharField(max_length=254)
    first_name = models.CharField(max_length=150)
    last_name = models.CharField(max_length=150)
    is_active = models.BooleanField()
    is_staff = models.BooleanField()
    is_superuser = models.BooleanField()
    date_joined = models.DateTimeField()
    USERNAME_FIELD = "username"

    class Meta(Shop):
        db_table = "user"


class Collection(models.Model):
    title = models.CharField(max_length=255)
    featured_product = models.ForeignKey("Product", models.SET_NULL, null=True,
                                         related_name="+")

    class Meta(Shop):
        db_table = "collection"


class Product(models.Model):
    title = models.CharField(max_length=255)
    slug = models.CharField(max_length=255)
    description = models.TextField()
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    inventory = models.IntegerField()
    last_update = models.DateTimeField()
    collection = models.ForeignKey(Collection, models.PROTECT)

    class Meta(Shop):
        db_table = "product"

    LOW_STOCK = 10

    @property
    def stock(self):
        if self.inventory <= 0:
            return "out", "Out of stock"
        if self.inventory < self.LOW_STOCK:
            return "low", f"Only {self.inventory} left"
        return "ok", "In stock"

    @property
    def thumb(self):            # one of ten thumbnail colours, as Storefront picks it
        return self.collection_id % 10


class Promotion(models.Model):
    description = models.CharField(max_length=255)
    discount = models.DecimalField(max_digits=5, decimal_places=2)
    starts_on = models.DateField(null=True)
    ends_on = models.DateField(null=True)

    class Meta(Shop):
        db_table = "promotion"


class ProductPromotion(models.Model):
    product = models.ForeignKey(Product, models.CASCADE)
    promotion = models.ForeignKey(Promotion, models.CASCADE)

    class Meta(Shop):
        db_table = "product_promotion"


class Tag(models.Model):
    label = models.CharField(max_length=255)

    class Meta(Shop):
        db_table = "tag"


class TaggedItem(models.Model):     # a generic link: (content_type, object_id) is a table name
    content_type = models.CharField(max_length=100)     # and a row id, as in Storefront
    object_id = models.IntegerField()
    tag = models.ForeignKey(Tag, models.CASCADE)

    class Meta(Shop):
        db_table = "tagged_item"


class LikedItem(models.Model):
    content_type = models.CharField(max_length=100)
    object_id = models.IntegerField()
    user = models.ForeignKey(User, models.CASCADE)

    class Meta(Shop):
        db_table = "liked_item"


class CartItem(models.Model):
    cart_id = models.UUIDField()
    product = models.ForeignKey(Product, models.CASCADE)
    quantity = models.IntegerField()

    class Meta(Shop):
        db_table = "cart_item"


class StorefrontUserBackend(BaseBackend):
    """The logged-in user, read from Storefront's table (what ModelBackend does for its own)."""

    def get_user(self, user_id):
        return User.objects.filter(pk=user_id, is_active=True).first()


def cart(request):
    """Context processor: the cart count in the header; no cart in the session, no query."""
    cart_id = request.session.get("cart_id")
    if not cart_id:
        return {"cart_count": 0}
    count = CartItem.objects.filter(cart_id=cart_id).aggregate(n=Sum("quantity"))["n"]
    return {"cart_count": count or 0}


# ----------------------------------------------------------------------------- views ---

SORTS = {"relevance": ("title", "id"),      # Django has no ranking of its own: by name
         "title": ("title", "id"), "-title": ("-title", "-id"),
         "price": ("price", "id"), "-price": ("-price", "-id"), "newest": ("-id",)}
SORT_LABELS = [("relevance", "Best match"), ("title", "Name A-Z"), ("-title", "Name Z-A"),
               ("price", "Price: low to high"), ("-price", "Price: high to low"),
               ("newest", "Newest")]


def whole_number(text):
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


def catalog(request):
    """Search (every word, in the title or description), a collection, a sort, a page."""
    q = request.GET.get("q", "").strip()[:100]
    collection_id = whole_number(request.GET.get("collection"))
    sort = request.GET.get("sort") or ("relevance" if q else "title")
    if sort not in SORTS:
        sort = "relevance" if q else "title"
    products = Product.objects.select_related("collection")
    if collection_id:
        products = products.filter(collection_id=collection_id)
    for word in q.split()[:10]:
        products = products.filter(Q(title__icontains=word) | Q(description__icontains=word))
    page = Paginator(products.order_by(*SORTS[sort]), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "catalog.html", {
        "page": page, "q": q, "sort": sort, "collection_id": collection_id,
        "sorts": [(key, label) for key, label in SORT_LABELS if q or key != "relevance"],
        "collections": Collection.objects.order_by("title"),
        "title": "Search: " + q if q else "All products"})


def product_detail(request, product_id):
    """One product with its collection, current promotions, tags and likes."""
    product = get_object_or_404(Product.objects.select_related("collection"), pk=product_id)
    today = datetime.datetime.now(datetime.timezone.utc).date()
    promotions = (Promotion.objects.filter(productpromotion__product=product)
                  .filter(Q(starts_on__isnull=True) | Q(starts_on__lte=today),
                          Q(ends_on__isnull=True) | Q(ends_on__gte=today))
                  .order_by("-discount", "id"))
    tags = Tag.objects.filter(taggeditem__content_type="product",
                              taggeditem__object_id=product.id).order_by("label")
    likes = LikedItem.objects.filter(content_type="product", object_id=product.id)
    liked = request.user.is_authenticated and likes.filter(user_id=request.user.pk).exists()
    return render(request, "product.html", {
        "product": product, "promotions": promotions, "tags": tags, "likes": likes.count(),
        "liked": liked, "title": product.title})


def collection_detail(request, collection_id):
    """One collection's products, by name, a page at a time."""
    collection = get_object_or_404(Collection, pk=collection_id)
    products = (Product.objects.filter(collection=collection).select_related("collection")
                .order_by("title", "id"))
    page = Paginator(products, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "collection.html", {
        "collection": collection, "page": page, "title": collection.title})


def elsewhere(request, *args, **kwargs):
    """The pages the shop's links point at that this comparison does not serve."""
    raise Http404


def bench_login(request, user_id):
    """The benchmark's door: log in as a Storefront user, with their cart, and say so."""
    if not hmac.compare_digest(request.GET.get("key", ""), LOGIN_KEY):
        raise Http404
    user = get_object_or_404(User, pk=user_id, is_active=True)
    login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
    request.session["cart_id"] = request.GET.get("cart") or None
    return HttpResponse(f"Logged in as {user.username}.", content_type="text/plain")


urlpatterns = [
    path("products", catalog, name="catalog"),
    path("products/<int:product_id>", product_detail, name="product"),
    path("collections/<int:collection_id>", collection_detail, name="collection"),
] + [path(route, elsewhere, name=name) for route, name in [
    ("", "home"), ("collections", "collections"), ("playground/", "playground"),
    ("admin/", "admin"), ("accounts/", "account"), ("accounts/login", "login"),
    ("accounts/logout", "logout"), ("accounts/register", "register"), ("cart", "cart"),
    ("cart/items", "cart_add"), ("tags/<str:label>", "tag"),
    ("products/<int:product_id>/like", "product_like")]]
if LOGIN_KEY:
    urlpatterns.append(path("bench-login/<int:user_id>", bench_login))

# Under load waitress warns "Task queue depth is N" for every queued request: noise, and
# writing it slows the server down.
logging.getLogger("waitress.queue").setLevel(logging.ERROR)

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()

if __name__ == "__main__":
    import waitress
    waitress.serve(application, host="127.0.0.1", port=int(sys.argv[1]),
                   threads=int(sys.argv[2]), _quiet=True)
