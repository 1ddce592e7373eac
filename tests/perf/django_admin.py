"""Django 5.2's admin over Storefront's order tables, configured as the course does, for
tests/perf/orders_bench.py to time beside Storefront's.

The course's admin: a CustomerAdmin whose "Orders" column is annotate(Count("order")) and
sorts by it, an OrderAdmin with its items inline (TabularInline, autocomplete fields) and a
total column, Sum(unit_price * quantity) of the items, that sorts too; list_select_related
for the foreign keys shown. Added for a fair match of the pages Storefront's lists offer: the
same columns, filters (payment status, membership), date_hierarchy on placed_at, a search by
id, 50 rows a page. Django's own tables (users, sessions, the admin log) live in a database of
their own (DJANGO_ADMIN_META); the shop's rows are read from Storefront's (unmanaged models).

    DJANGO_ADMIN_DATABASE=storefront.sqlite3 DJANGO_ADMIN_META=meta.sqlite3 \\
        python django_admin.py REPEAT PATH...       # prints {path: median ms} as JSON

With DJANGO_ADMIN_DATABASE_URL=postgresql://user@host:port/name the shop is read there.
"""
import json
import os
import statistics
import sys
import time
import urllib.parse

import django
from django.conf import settings


def shop_database():
    url = os.environ.get("DJANGO_ADMIN_DATABASE_URL", "")
    if not url.startswith("postgres"):
        return {"ENGINE": "django.db.backends.sqlite3",
                "NAME": os.environ["DJANGO_ADMIN_DATABASE"]}
    parts = urllib.parse.urlsplit(url)
    return {"ENGINE": "django.db.backends.postgresql", "NAME": parts.path.lstrip("/"),
            "USER": parts.username or "", "PASSWORD": parts.password or "",
            "HOST": parts.hostname or "", "PORT": str(parts.port or "")}


settings.configure(
    DEBUG=False, SECRET_KEY="bench-only", ALLOWED_HOSTS=["*"], ROOT_URLCONF=__name__,
    USE_TZ=False, DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    INSTALLED_APPS=["django.contrib.admin", "django.contrib.auth",
                    "django.contrib.contenttypes", "django.contrib.sessions",
                    "django.contrib.messages", "shop.ShopConfig"],
    MIDDLEWARE=["django.middleware.security.SecurityMiddleware",
                "django.contrib.sessions.middleware.SessionMiddleware",
                "django.middleware.csrf.CsrfViewMiddleware",
                "django.contrib.auth.middleware.AuthenticationMiddleware",
                "django.contrib.messages.middleware.MessageMiddleware",
                "django.middleware.clickjacking.XFrameOptionsMiddleware"],
    TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [],
                "APP_DIRS": True, "OPTIONS": {"context_processors": [
                    "django.template.context_processors.request",
                    "django.contrib.auth.context_processors.auth",
                    "django.contrib.messages.context_processors.messages"]}}],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3",
                           "NAME": os.environ["DJANGO_ADMIN_META"]},
               "shop": shop_database()},
    DATABASE_ROUTERS=[__name__ + ".ShopRouter"],
    STATIC_URL="/static/",
)


class ShopRouter:
    """The shop's models read Storefront's database; Django's own tables the other."""
    def db_for_read(self, model, **hints):
        return "shop" if model._meta.app_label == "shop" else None

    db_for_write = db_for_read

    def allow_migrate(self, db, app_label, **hints):
        return db == "default" and app_label != "shop"


# The app of the models, made here (Django finds an app by its module's name).
import types  # noqa: E402

from django.apps import AppConfig  # noqa: E402


class ShopConfig(AppConfig):
    name = label = "shop"
    path = os.path.dirname(os.path.abspath(__file__))


shop_module = types.ModuleType("shop")
shop_module.ShopConfig = ShopConfig
sys.modules["shop"] = shop_module
models_module = types.ModuleType("shop.models")
sys.modules["shop.models"] = models_module


def define_models():
    from django.db import models

    class Meta:
        managed = False
        app_label = "shop"

    def model(name, table, **fields):
        return type(name, (models.Model,), dict(
            fields, __module__="shop.models",
            Meta=type("Meta", (Meta,), {"db_table": table})))
    Collection = model("Collection", "collection", title=models.CharField(max_length=255),
                       __str__=lambda self: self.title)
    Product = model("Product", "product", title=models.CharField(max_length=255),
                    slug=models.SlugField(), description=models.TextField(),
                    unit_price=models.DecimalField(max_digits=10, decimal_places=2),
                    inventory=models.IntegerField(), last_update=models.DateTimeField(),
                    collection=models.ForeignKey(Collection, models.PROTECT),
                    __str__=lambda self: self.title)
    Customer = model("Customer", "customer", first_name=models.CharField(max_length=255),
                     last_name=models.CharField(max_length=255),
                     email=models.EmailField(unique=True),
                     phone=models.CharField(max_length=255),
                     birth_date=models.DateField(null=True),
                     membership=models.CharField(max_length=1, choices=[
                         ("B", "Bronze"), ("S", "Silver"), ("G", "Gold")]),
                     __str__=lambda self: f"{self.first_name} {self.last_name}")
    Order = model("Order", "order", placed_at=models.DateTimeField(),
                  payment_status=models.CharField(max_length=1, choices=[
                      ("P", "Pending"), ("C", "Complete"), ("F", "Failed")]),
                  customer=models.ForeignKey(Customer, models.PROTECT),
                  __str__=lambda self: f"Order #{self.id}")
    OrderItem = model("OrderItem", "order_item",
                      order=models.ForeignKey(Order, models.PROTECT, related_name="items"),
                      product=models.ForeignKey(Product, models.PROTECT),
                      quantity=models.PositiveSmallIntegerField(),
                      unit_price=models.DecimalField(max_digits=10, decimal_places=2))
    for m in (Collection, Product, Customer, Order, OrderItem):
        setattr(models_module, m.__name__, m)
    return Collection, Product, Customer, Order, OrderItem


django.setup()
Collection, Product, Customer, Order, OrderItem = define_models()

from django.contrib import admin  # noqa: E402
from django.db.models import Count, F, Sum  # noqa: E402
from django.urls import path  # noqa: E402


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    search_fields = ["title"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["title", "unit_price", "inventory", "collection"]
    list_select_related = ["collection"]
    list_filter = ["collection"]
    search_fields = ["title"]
    list_per_page = 50


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["first_name", "last_name", "email", "membership", "orders"]
    list_editable = ["membership"]
    list_filter = ["membership"]
    ordering = ["last_name", "first_name"]
    search_fields = ["first_name__istartswith", "last_name__istartswith"]
    list_per_page = 50

    @admin.display(ordering="orders_count")
    def orders(self, customer):
        return customer.orders_count

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(orders_count=Count("order"))


class OrderItemInline(admin.TabularInline):
    autocomplete_fields = ["product"]
    model = OrderItem
    min_num, max_num, extra = 1, 10, 0


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    autocomplete_fields = ["customer"]
    inlines = [OrderItemInline]
    list_display = ["id", "placed_at", "customer", "payment_status", "total"]
    list_select_related = ["customer"]
    list_filter = ["payment_status"]
    date_hierarchy = "placed_at"
    search_fields = ["=id"]
    ordering = ["-placed_at"]
    list_per_page = 50
    actions = ["mark_complete"]

    @admin.display(ordering="total_amount")
    def total(self, order):
        return order.total_amount

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            total_amount=Sum(F("items__unit_price") * F("items__quantity")))

    @admin.action(description="Mark the selected orders complete")
    def mark_complete(self, request, queryset):
        queryset.update(payment_status="C")


@admin.register(OrderItem)
class OrderItemAdmin(admin.ModelAdmin):
    list_display = ["order", "product", "quantity", "unit_price"]
    list_select_related = ["order", "product"]
    search_fields = ["=order__id"]
    list_per_page = 50


urlpatterns = [path("admin/", admin.site.urls)]


def main():
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client
    call_command("migrate", verbosity=0)
    user = User.objects.filter(username="bench").first() or User.objects.create_superuser(
        "bench", "bench@example.com", "bench pass 123")
    client = Client()
    client.force_login(user)
    repeat, paths, result = int(sys.argv[1]), sys.argv[2:], {}
    for page in paths:
        if repeat > 1:
            client.get(page)                                # warm up
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            client.get(page)
            times.append((time.perf_counter() - started) * 1000)
        result[page] = statistics.median(times)
        print(f"{page}: {result[page]:.1f} ms", file=sys.stderr, flush=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
