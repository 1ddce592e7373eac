"""Product photos: uploads checked with Pillow, their sizes, URLs and headers, where they show."""
import io
import re

import pytest
from PIL import ExifTags, Image
from playhouse.test_utils import count_queries
from webtest import Upload

import app as storefront
import models
from models import Product, ProductImage, ProductImageFile


@pytest.fixture
def staff(login_as):
    return login_as("boss", is_staff=True, is_superuser=True)


@pytest.fixture
def bare(shop):
    """Product 1 without its demo photo: its form's first photo row is a new one."""
    ProductImage.delete().where(ProductImage.product == 1).execute()
    return Product.get_by_id(1)


def picture(fmt="PNG", size=(300, 200), mode="RGB", **options):
    """An image file's bytes: red on the left half, blue on the right."""
    image = Image.new(mode, size, "red")
    image.paste("blue", (size[0] // 2, 0, size[0], size[1]))
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def with_gps_turned_sideways():
    """A JPEG stored 300 × 200 that its EXIF says to show turned (200 × 300), with GPS."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6            # turn 90° clockwise to show it
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef], gps[ExifTags.GPS.GPSLatitude] = "N", (52.0, 22.0, 1.0)
    data = picture("JPEG", exif=exif)
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)   # it has GPS
    return data


def upload(client, product, name, data, alt="A red and blue square", row=0, **changes):
    """Send the product's form with a photo in inline row `row` (and other `changes`)."""
    form = client.get(f"/admin/product/{product.id}/").forms["admin-form"]
    form[f"productimage-{row}-photo"] = Upload(name, data, "application/octet-stream")
    form[f"productimage-{row}-alt"] = alt
    for field, value in changes.items():
        form[field] = value
    return form.submit("_continue", expect_errors=True)


def stored():
    return ProductImage.select().count(), ProductImageFile.select().count()


def bomb():
    """A small PNG of more pixels than a photo may have: decoded, it would take gigabytes."""
    side = int(models.PHOTO_MAX_PIXELS ** 0.5) + 100
    return picture("PNG", size=(side, side), mode="1")


BAD_FILES = [
    ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="9" height="9"/></svg>',
     "drawing.svg is not a JPEG, PNG, WebP or GIF image"),
    ("notes.jpg", b"These are not the pixels you are looking for.",
     "notes.jpg is not a JPEG, PNG, WebP or GIF image"),
    ("empty.png", b"", "empty.png is empty."),
    ("huge.jpg", None, "huge.jpg is larger than 10 MB."),
    ("bomb.png", None, "bomb.png has more than 25 million pixels"),
    ("cut.jpg", None, "cut.jpg is damaged or incomplete"),
]


@pytest.mark.parametrize("name,data,message", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_a_bad_file_is_a_form_error_and_nothing_is_stored(client, staff, bare, name, data,
                                                          message):
    if name == "huge.jpg":      # a real photo, made too big
        data = picture("JPEG") + b"\0" * models.PHOTO_MAX_BYTES
    elif name == "bomb.png":
        data = bomb()
        assert len(data) < models.PHOTO_MAX_BYTES
    elif name == "cut.jpg":
        whole = picture("JPEG", size=(600, 400), quality=95)
        data = whole[:len(whole) * 2 // 3]
    before = stored()
    page = upload(client, bare, name, data, title="Renamed while uploading")
    assert page.status_int == 400
    assert message in page.text
    assert 'value="Renamed while uploading"' in page.text    # the form keeps what was typed
    assert stored() == before
    assert Product.get_by_id(bare.id).title == bare.title


def test_a_photo_needs_its_alt_text(client, staff, bare):
    before = stored()
    page = upload(client, bare, "square.png", picture(), alt="")
    assert page.status_int == 400
    assert "Say what the photo shows" in page.text
    assert "Choose square.png again" in page.text        # a browser never sends a file twice
    assert stored() == before


def test_the_type_is_read_from_the_content_not_the_name(client, staff, bare):
    before = stored()
    assert upload(client, bare, "really-a-png.jpg", picture("PNG")).status_int == 303
    assert stored() == (before[0] + 1, before[1] + 1 + len(models.PHOTO_SIZES))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
def test_each_kind_of_image_is_taken(client, staff, bare, fmt):
    assert upload(client, bare, f"square.{fmt.lower()}", picture(fmt)).status_int == 303
    assert ProductImage.get(ProductImage.product == bare.id).width == 300


def test_a_photo_is_turned_upright_and_its_gps_is_gone(client, staff, bare):
    upload(client, bare, "phone.jpg", with_gps_turned_sideways())
    image = ProductImage.get(ProductImage.product == bare.id)
    assert (image.width, image.height) == (200, 300)
    files = {f.size: bytes(f.data) for f in ProductImageFile.select().where(
        ProductImageFile.image == image.id)}
    assert set(files) == {"original", *models.PHOTO_SIZES}
    for size, data in files.items():
        stored_image = Image.open(io.BytesIO(data))
        assert stored_image.size == (image.size(size) if size != "original" else (200, 300))
        assert not stored_image.getexif(), size          # no EXIF at all: no GPS
        assert b"GPS" not in data
        # Upright: the red half (left when stored) is now on top.
        top = stored_image.convert("RGB").getpixel((stored_image.width // 2, 2))
        assert top[0] > 200 and top[2] < 60, size


def test_sizes_keep_the_proportions_and_never_grow(client, staff, bare):
    assert models.photo_size(1200, 900, "card") == (400, 300)
    assert models.photo_size(300, 200, "page") == (300, 200)
    assert models.photo_size(100, 4000, "thumb") == (4, 160)    # no side over twice the width


def card_photo(client, product):
    """The <img> of a product's card in the catalog."""
    page = client.get("/products", {"q": product.title.split()[0]})
    card = re.search(rf'<li class="card product-card" id="product-{product.id}">(.*?)</li>',
                     page.text, re.S)
    return re.search(r"<img [^>]*>", card.group(1))


def test_the_card_has_srcset_sizes_width_and_height(client, staff, bare):
    upload(client, bare, "wide.png", picture(size=(1200, 900)))
    image = ProductImage.get(ProductImage.product == bare.id)
    tag = card_photo(client, bare).group(0)
    card, page = (f"/media/{image.id}-{image.photo}-{size}.webp" for size in ("card", "page"))
    assert f'src="{card}"' in tag
    assert f'srcset="{card} 400w, {page} 800w"' in tag
    assert 'sizes="' in tag and 'width="400" height="300"' in tag
    assert 'alt=""' in tag          # the link's name is the title beside it
    assert 'alt="A red and blue square"' in client.get(f"/products/{bare.id}").text


def test_a_photo_url_is_cached_for_ever_and_changes_with_the_photo(client, staff, bare):
    upload(client, bare, "first.png", picture())
    image = ProductImage.get(ProductImage.product == bare.id)
    first = f"/media/{image.id}-{image.photo}-card.webp"
    answer = client.get(first)
    assert answer.content_type == "image/webp"
    assert Image.open(io.BytesIO(answer.body)).size == image.size("card")
    assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert client.get(first, headers={"If-None-Match": answer.headers["ETag"]}).status_int == 304
    # Another photo in the same row: another URL, and the old one is gone.
    upload(client, bare, "second.png", picture(size=(500, 500)))
    replaced = ProductImage.get_by_id(image.id)
    assert replaced.photo != image.photo
    assert f"/media/{image.id}-{replaced.photo}-card.webp" in card_photo(client, bare).group(0)
    assert "immutable" not in client.get(first, status=404).headers.get("Cache-Control", "")
    assert ProductImageFile.select().where(ProductImageFile.image == image.id).count() == \
        1 + len(models.PHOTO_SIZES)


def test_a_photo_costs_one_query_and_no_session(client, shop):
    image = ProductImage.select().first()
    with count_queries() as counted:
        answer = client.get(f"/media/{image.id}-{image.photo}-thumb.webp")
    assert counted.count == 1
    assert "Set-Cookie" not in answer.headers
    for wrong in (f"{image.id}-{'0' * 16}-thumb", f"{image.id}-{image.photo}-huge",
                  f"999999-{image.photo}-thumb"):
        client.get(f"/media/{wrong}.webp", status=404)


def test_photos_are_reordered_and_deleted(client, staff, bare):
    upload(client, bare, "a.png", picture(), alt="Photo A")
    upload(client, bare, "b.png", picture(size=(200, 200)), alt="Photo B", row=1)
    a, b = ProductImage.select().where(ProductImage.product == bare.id).order_by(ProductImage.id)
    assert f"/media/{a.id}-" in card_photo(client, bare).group(0)   # the first is the main one
    form = client.get(f"/admin/product/{bare.id}/").forms["admin-form"]
    form["productimage-0-position"], form["productimage-1-position"] = "2", "1"
    form.submit("_continue", status=303)
    assert f"/media/{b.id}-" in card_photo(client, bare).group(0)
    form = client.get(f"/admin/product/{bare.id}/").forms["admin-form"]
    assert form["productimage-0-id"].value == str(b.id)      # in their order on the form too
    form["productimage-0-DELETE"] = True
    form.submit("_continue", status=303)
    assert [i.id for i in ProductImage.select().where(ProductImage.product == bare.id)] == [a.id]
    assert not ProductImageFile.select().where(ProductImageFile.image == b.id).exists()


def test_a_product_without_photos_keeps_its_lettered_tile(client, bare):
    page = client.get(f"/products/{bare.id}")
    assert f'aria-hidden="true">{bare.title[0]}</div>' in page.text
    assert card_photo(client, bare) is None


def test_the_product_page_shows_a_gallery(client, staff, bare):
    upload(client, bare, "a.png", picture(), alt="Photo A")
    upload(client, bare, "b.png", picture(), alt="Photo B", row=1)
    page = client.get(f"/products/{bare.id}")
    assert 'class="gallery"' in page.text
    assert page.text.index('alt="Photo A"') < page.text.index('alt="Photo B"')
    assert 'fetchpriority="high"' in page.text


def test_cart_checkout_and_order_show_the_photo(client, login_as, shop):
    login_as("alice")
    product = Product.select().where(Product.inventory > 0).order_by(Product.id).first()
    image = ProductImage.get(ProductImage.product == product.id)
    thumb = f"/media/{image.id}-{image.photo}-thumb.webp"
    page = client.get(f"/products/{product.id}")
    next(f for f in page.forms.values() if f.action == "/cart/items").submit(status=303)
    assert thumb in client.get("/cart").text
    checkout = client.get("/checkout")
    assert thumb in checkout.text
    form = next(f for f in checkout.forms.values() if f.action == "/checkout")
    form["first_name"], form["last_name"] = "Alice", "Liddell"
    form["email"], form["street"], form["city"] = "alice@example.com", "1 Main St", "Oxford"
    order = form.submit().follow()
    assert thumb in order.text


def test_the_admin_list_shows_thumbnails_in_one_query(client, staff, shop, monkeypatch):
    def counted(per_page):
        monkeypatch.setattr(storefront.REGISTRY["product"], "list_per_page", per_page)
        client.get("/admin/product/")       # the counts the list keeps are made
        with count_queries() as counter:
            page = client.get("/admin/product/")
        assert page.text.count('class="admin-thumb"') == per_page
        return counter.count
    assert counted(5) == counted(50)


def test_the_api_gives_each_products_images(client, staff, bare):
    upload(client, bare, "a.png", picture(size=(1200, 900)), alt="Photo A")
    image = ProductImage.get(ProductImage.product == bare.id)
    body = client.get(f"/api/products/{bare.id}").json
    assert body["images"] == [{"url": f"/media/{image.id}-{image.photo}-page.webp",
                               "width": 800, "height": 600, "alt": "Photo A"}]
    client.get(body["images"][0]["url"], status=200)
    listed = {p["id"]: p for p in client.get("/api/products", {"q": bare.title}).json["results"]}
    assert listed[bare.id]["images"] == body["images"]


@pytest.mark.parametrize("page_size", [5, 50])
def test_catalog_with_a_photo_on_every_card_costs_the_same_queries(client, shop, settings,
                                                                  page_size):
    assert not Product.select().where(Product.id.not_in(
        ProductImage.select(ProductImage.product))).exists()     # the demo drew them all
    settings.page_size = page_size
    with count_queries() as counter:
        page = client.get("/products")
    assert page.text.count('class="product-photo') == page_size
    # the count, the collections, the page (which products, then those: models.rows_of()),
    # its photos
    assert counter.count == 5


def test_a_form_that_takes_no_files_refuses_them(client, login_as, shop, csrf):
    login_as("alice")
    page = client.post("/accounts/", {"csrf_token": csrf(), "first_name": "A"},
                       upload_files=[("avatar", "me.png", picture())], status=400)
    assert "does not take files" in page.text


def test_the_seed_draws_demo_photos(shop):
    image = ProductImage.select().first()
    data = ProductImageFile.get((ProductImageFile.image == image.id)
                                & (ProductImageFile.size == "page")).data
    assert Image.open(io.BytesIO(bytes(data))).size == image.size("page")


def test_a_product_saved_as_new_gets_its_own_copy_of_the_photos(client, staff, bare):
    upload(client, bare, "a.png", picture(), alt="Photo A")
    form = client.get(f"/admin/product/{bare.id}/").forms["admin-form"]
    form["title"] = "A copy"
    form.submit("_saveasnew", status=303)
    copy = Product.get(Product.title == "A copy")
    image = ProductImage.get(ProductImage.product == copy.id)
    assert image.alt == "Photo A"
    client.get(f"/media/{image.id}-{image.photo}-card.webp", status=200)
    client.get(f"/admin/product/{bare.id}/delete")      # the original goes; the copy's stay
    ProductImage.delete().where(ProductImage.product == bare.id).execute()
    client.get(f"/media/{image.id}-{image.photo}-card.webp", status=200)
