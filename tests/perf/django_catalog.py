"""The same catalog page in Django, for tests/perf/django_compare.py to measure beside ours.

A fair opponent: Django's usual middleware (security, sessions, CSRF, auth, messages,
clickjacking), a select_related() query, Django's Paginator (a COUNT(*) and a LIMIT/OFFSET),
and a template with the same product grid, add-to-cart forms and pagination as
views/store/catalog.tpl. It reads Storefront's own SQLite database, unmanaged.

    python tests/perf/django_catalog.py DATABASE PORT THREADS     (needs: pip install django)
"""
import sys

import django
from django.conf import settings

DATABASE, PORT, THREADS = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }} · Storefront</title>
<link rel="stylesheet" href="/static/css/site.css"></head>
<body><header><nav><a href="/">Storefront</a>
<form action="/products" method="get"><input type="search" name="q" value="{{ q }}"></form>
<ul><li><a href="/products">Shop</a></li><li><a href="/collections">Collections</a></li>
<li><a href="/accounts/login">Log in</a></li><li><a href="/cart">Cart</a></li></ul></nav></header>
<main><aside><form method="get" action="/products"><select name="collection">
<option value="">All collections</option>
{% for c in collections %}<option value="{{ c.id }}">{{ c.title }}</option>{% endfor %}
</select><button>Apply</button></form></aside>
<h1>{{ title }}</h1><p>{{ page.paginator.count }} products.</p>
<ul class="product-grid">{% for p in page %}
<li class="card"><a href="/products/{{ p.id }}"><span>{{ p.title|first }}</span><span>{{ p.title }}</span></a>
<span>{{ p.collection.title }}</span><span>${{ p.unit_price }}</span>
{% if p.inventory == 0 %}<span>Out of stock</span>{% else %}
{% if p.inventory < 10 %}<span>Only {{ p.inventory }} left</span>{% endif %}
<form method="post" action="/cart/items">{% csrf_token %}
<input type="hidden" name="product_id" value="{{ p.id }}"><input type="hidden" name="quantity" value="1">
<button type="submit">Add to cart</button></form>{% endif %}</li>
{% endfor %}</ul>
<nav>{% if page.has_previous %}<a href="?page={{ page.previous_page_number }}">Previous</a>{% endif %}
<span>Page {{ page.number }} of {{ page.paginator.num_pages }}</span>
{% if page.has_next %}<a href="?page={{ page.next_page_number }}">Next</a>{% endif %}</nav>
</main></body></html>"""

settings.configure(
    DEBUG=False, ALLOWED_HOSTS=["*"], ROOT_URLCONF=__name__, SECRET_KEY="benchmark-only",
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATABASE}},
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth",
                    "django.contrib.sessions", "django.contrib.messages"],
    MIDDLEWARE=["django.middleware.security.SecurityMiddleware",
                "django.contrib.sessions.middleware.SessionMiddleware",
                "django.middleware.common.CommonMiddleware",
                "django.middleware.csrf.CsrfViewMiddleware",
                "django.contrib.auth.middleware.AuthenticationMiddleware",
                "django.contrib.messages.middleware.MessageMiddleware",
                "django.middleware.clickjacking.XFrameOptionsMiddleware"],
    TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates",
                "OPTIONS": {"loaders": [("django.template.loaders.locmem.Loader",
                                         {"catalog.html": TEMPLATE})],
                            "context_processors": ["django.template.context_processors.csrf"]}}],
    USE_TZ=False,
)
django.setup()

from django.core.paginator import Paginator  # noqa: E402
from django.db import models  # noqa: E402
from django.shortcuts import render  # noqa: E402
from django.urls import path  # noqa: E402


class Collection(models.Model):
    title = models.CharField(max_length=255)

    class Meta:
        app_label, db_table, managed = "contenttypes", "collection", False


class Product(models.Model):
    title = models.CharField(max_length=255)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    inventory = models.IntegerField()
    collection = models.ForeignKey(Collection, on_delete=models.PROTECT)

    class Meta:
        app_label, db_table, managed = "contenttypes", "product", False


def catalog(request):
    products = Product.objects.select_related("collection").order_by("title", "id")
    q = request.GET.get("q", "")
    if q:
        products = products.filter(title__icontains=q)
    page = Paginator(products, 24).get_page(request.GET.get("page"))
    return render(request, "catalog.html", {
        "page": page, "q": q, "title": "All products",
        "collections": Collection.objects.order_by("title")})


urlpatterns = [path("products", catalog)]

if __name__ == "__main__":
    import logging

    import waitress
    from django.core.wsgi import get_wsgi_application
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    waitress.serve(get_wsgi_application(), host="127.0.0.1", port=PORT, threads=THREADS,
                   _quiet=True)
