"""End to end: a real browser (Chromium, driven by Playwright) on a real server (waitress).

The other tests talk HTTP to the app through WebTest; these click through it like a person:
links, the search box, forms, redirects, cookies, the admin's JavaScript, and the
Content-Security-Policy the browser enforces. Two stories, one test each:

1. A visitor browses, searches, adds to the cart, registers, checks out and sees the order.
2. Staff log in to the admin, add a product (a validation error first), find it by search,
   and see it in the shop.

Each story runs in steps (`with step("..."):`). When a step fails, a screenshot and the HTML
of every open page are saved in tests/e2e-screenshots/<test>/, and the failure says so.

Needs Chromium at /usr/bin/chromium (`apt-get install -y chromium`) and the playwright
package (in requirements.txt). Never run `playwright install`: we use the system's Chromium.
Without either, these tests are skipped with the reason.
"""
import contextlib
import email
import email.policy
import os
import pathlib
import re
import shutil

import peewee
import pytest

import app as storefront
import models
from conftest import PASSWORD
from models import Product

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed "
    "(pip install -r requirements.txt)")
axe_playwright = pytest.importorskip(
    "axe_playwright_python.sync_playwright", reason="the axe-playwright-python package is not "
    "installed (pip install -r requirements.txt)")
expect = sync_api.expect

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
SCREENSHOTS = pathlib.Path(__file__).parent / "e2e-screenshots"


# --- Fixtures: a browser, a server, pages that report console errors --------------------------

@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module; each test opens its own contexts (cookie jars)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def server(live_server, shop, make_user):
    """The demo shop and a staff superuser, served by waitress in a thread: the base URL.

    Function-scoped on purpose: the database binding (models.db) is process-wide, and every
    other test module's fixtures rebind it.
    """
    make_user("boss", is_staff=True, is_superuser=True)
    return live_server


@pytest.fixture
def console_errors():
    """Every console error and uncaught script error of the pages opened by `new_page`.

    A Content-Security-Policy violation (an inline script or style, a script from another
    site) is reported by Chromium as a console error, so an empty list also says the pages
    obey their own policy.
    """
    return []


@pytest.fixture
def new_page(browser, server, console_errors):
    """new_page() opens a page in a fresh browser context: a new visitor with no cookies."""
    contexts = []

    def new_page():
        context = browser.new_context(base_url=server)
        contexts.append(context)
        page = context.new_page()

        def on_console(message):
            if message.type != "error":
                return
            # The page's own status (a form with errors answers 400) is for the test to check;
            # a stylesheet, script or image of the page that fails to load is an error.
            if message.text.startswith("Failed to load resource") and \
                    message.location.get("url") == page.url:
                return
            console_errors.append(f"{page.url}: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: console_errors.append(f"{page.url}: {error}"))
        return page

    yield new_page
    for context in contexts:
        context.close()


@pytest.fixture
def accessibility_problems():
    """What axe-core (the accessibility engine browsers' own tools use) finds on the pages."""
    return []


AXE = axe_playwright.Axe()
# Beyond axe's default WCAG rules: a control's accessible name must contain its visible text.
AXE_OPTIONS = {"rules": {"label-content-name-mismatch": {"enabled": True}}}


def check_accessibility(page, problems, seen):
    """Run axe-core on the page as it is now, once per address; note every violation."""
    if page.url in seen or page.url == "about:blank":
        return
    seen.add(page.url)
    for violation in AXE.run(page, options=AXE_OPTIONS).response["violations"]:
        targets = ", ".join(str(node["target"]) for node in violation["nodes"][:3])
        problems.append(f"{page.url}: {violation['id']} ({violation['help']}) at {targets}")


@pytest.fixture
def step(browser, request, accessibility_problems):
    """`with step("name"):` runs one step of a story; if it fails, it saves the evidence.
    After each step, every open page is checked with axe-core."""
    folder = SCREENSHOTS / request.node.name
    shutil.rmtree(folder, ignore_errors=True)      # only this run's evidence
    seen = set()

    @contextlib.contextmanager
    def step(name):
        try:
            yield
        except Exception as error:
            save_open_pages(browser, folder, name)
            error.add_note(f"Step {name!r} failed. Screenshots and HTML of the open pages "
                           f"are in {folder}")
            raise
        for context in browser.contexts:
            for page in context.pages:
                check_accessibility(page, accessibility_problems, seen)

    return step


def save_open_pages(browser, folder, step_name):
    """A screenshot and the HTML of every page open in `browser`, into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "-", step_name.lower()).strip("-")
    pages = [page for context in browser.contexts for page in context.pages]
    for n, page in enumerate(pages, 1):
        with contextlib.suppress(Exception):    # saving must never hide the failure itself
            page.screenshot(path=folder / f"{slug}-page{n}.png", full_page=True)
            (folder / f"{slug}-page{n}.html").write_text(
                f"<!-- {page.url} -->\n" + page.content(), encoding="utf-8")


def price(amount):
    """How the shop prints an amount of money: $1,012.50."""
    return f"${amount:,}"


def search_from_the_navigation_bar(page, words):
    """Type into the search box at the top of every page and press Enter, as a shopper does."""
    search = page.get_by_role("banner").get_by_role("searchbox", name="Search products")
    search.fill(words)
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"/products\?q=" + re.escape(words) + "$"))
    expect(page.get_by_role("heading", name=f"Search: {words}")).to_be_visible()


def row_with_link(page, name):
    """The table row that holds a link called `name`."""
    return page.get_by_role("row").filter(has=page.get_by_role("link", name=name, exact=True))


def assert_no_browser_errors(console_errors, accessibility_problems):
    assert not console_errors, "the browser reported errors (a CSP violation?):\n" + \
        "\n".join(console_errors)
    assert not accessibility_problems, "axe-core found accessibility problems:\n" + \
        "\n".join(accessibility_problems)


# --- The stories --------------------------------------------------------------------------------

def test_visitor_searches_buys_registers_and_sees_the_order(new_page, step, console_errors,
                                                            accessibility_problems):
    # A product of the demo shop with stock to spare, and a word of its title to search for.
    product = Product.select().where(Product.inventory >= 10).order_by(Product.title).first()
    word = product.title.split(" No. ")[0].split()[-1]    # "Aged Salmon No. 39": "Salmon"
    total = price(product.price * 2)
    models.db.close()
    page = new_page()

    with step("open the home page and go to the catalog"):
        page.goto("/")
        expect(page.get_by_role("heading", name="Good things, small shop.")).to_be_visible()
        page.get_by_role("link", name="Browse all products").click()
        expect(page).to_have_url(re.compile(r"/products$"))
        expect(page.get_by_role("heading", name="All products")).to_be_visible()

    with step("search from the navigation bar"):
        search_from_the_navigation_bar(page, word)
        titles = page.locator(".product-grid .product-title")
        expect(titles.first).to_be_visible()
        for title in titles.all_inner_texts():
            assert word.lower() in title.lower(), f"{title!r} does not match the search {word!r}"

    with step("open the product and add two to the cart"):
        page.get_by_role("link", name=product.title, exact=True).click()
        expect(page).to_have_url(re.compile(rf"/products/{product.id}$"))
        expect(page.get_by_role("heading", name=product.title)).to_be_visible()
        page.get_by_label("Quantity").fill("2")
        page.get_by_role("button", name="Add to cart", exact=True).click()

    with step("see the cart with that line and the right total"):
        expect(page).to_have_url(re.compile(r"/cart$"))
        expect(page.get_by_role("status")).to_have_text(f"Added {product.title} to your cart.")
        line = row_with_link(page, product.title)
        expect(line.get_by_role("spinbutton")).to_have_value("2")
        expect(line.locator("td").last).to_have_text(total)
        expect(page.locator(".cart-table .total")).to_have_text(total)
        expect(page.locator(".cart-link .badge")).to_have_text("2")

    with step("check out: the shop asks to log in first"):
        page.get_by_role("link", name="Check out").click()
        expect(page).to_have_url(re.compile(r"/accounts/login\?next=%2Fcheckout$"))
        expect(page.get_by_role("heading", name="Log in")).to_be_visible()

    with step("create an account"):
        page.get_by_role("link", name="Create an account").click()
        expect(page).to_have_url(re.compile(r"/accounts/register$"))
        page.get_by_label("Username").fill("carol")
        page.get_by_label("Email").fill("carol@example.com")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_label("Password again").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        expect(page.get_by_role("status")).to_have_text("Welcome, carol! Your account is ready.")
        expect(page.get_by_role("link", name="carol", exact=True)).to_be_visible()

    with step("the cart survived the login: check out"):
        page.get_by_role("link", name=re.compile(r"^Cart")).click()
        expect(page.locator(".cart-table .total")).to_have_text(total)
        page.get_by_role("link", name="Check out").click()
        expect(page).to_have_url(re.compile(r"/checkout$"))
        expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
        expect(page.get_by_label("Email")).to_have_value("carol@example.com")

    with step("fill in the address and place the order"):
        page.get_by_label("First name").fill("Carol")
        page.get_by_label("Last name").fill("Jones")
        page.get_by_label("Street and number").fill("12 Market Street")
        page.get_by_label("City").fill("Leeds")
        page.get_by_label("Postal code").fill("LS1 4AB")
        page.get_by_role("button", name=f"Place order · {total}").click()

    with step("land on the order page"):
        expect(page).to_have_url(re.compile(r"/orders/\d+$"))
        order_id = int(page.url.rsplit("/", 1)[1])
        expect(page.get_by_role("heading", name=f"Order #{order_id}")).to_be_visible()
        expect(page.get_by_role("status")).to_have_text(
            f"Thank you! Order #{order_id} has been placed.")
        expect(row_with_link(page, product.title).locator("td")).to_have_text(
            [product.title, price(product.price), "2", total])
        expect(page.locator(".total")).to_have_text(total)
        expect(page.locator(".cart-link .badge")).to_have_text("0")

    with step("the order is listed under Your orders"):
        page.get_by_role("link", name="Your orders").click()
        expect(page).to_have_url(re.compile(r"/orders$"))
        expect(row_with_link(page, f"Order #{order_id}")).to_contain_text(total)

    assert_no_browser_errors(console_errors, accessibility_problems)


def test_staff_add_a_product_and_see_it_in_the_shop(new_page, step, console_errors,
                                                    accessibility_problems):
    title = "Speckled Stoneware Teapot"
    visitor, page = new_page(), new_page()

    with step("a visitor searches the shop for a teapot: there is none yet"):
        visitor.goto("/")
        search_from_the_navigation_bar(visitor, "Teapot")
        expect(visitor.get_by_text("No products match.")).to_be_visible()

    with step("log in as staff"):
        page.goto("/accounts/login")
        page.get_by_label("Username").fill("boss")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("status")).to_have_text("Welcome back, boss.")

    with step("open the admin and its products"):
        page.get_by_role("link", name="Admin", exact=True).click()
        expect(page).to_have_url(re.compile(r"/admin/$"))
        expect(page.get_by_role("heading", name="Administration")).to_be_visible()
        page.get_by_role("link", name="Products", exact=True).click()
        expect(page).to_have_url(re.compile(r"/admin/product/$"))
        expect(page.get_by_role("heading", name="Products")).to_be_visible()

    with step("add a product with a price of 0: the form comes back with the error"):
        page.get_by_role("link", name="Add product").click()
        expect(page).to_have_url(re.compile(r"/admin/product/add"))
        page.get_by_label("Title").fill(title)
        # admin.js fills the slug in from the title as you type.
        expect(page.get_by_label("Slug")).to_have_value("speckled-stoneware-teapot")
        page.get_by_label("Description").fill("Glazed by hand; holds four cups.")
        page.get_by_label("Unit price").fill("0")
        page.get_by_label("Inventory").fill("7")
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.get_by_role("alert")).to_contain_text("Please correct the errors below.")
        expect(page.locator("#unit_price-errors")).to_have_text("The price must be at least 1.")
        expect(page.get_by_label("Unit price")).to_have_attribute("aria-invalid", "true")
        expect(page.get_by_label("Title")).to_have_value(title)
        expect(page.get_by_label("Inventory")).to_have_value("7")

    with step("fix the price, choose a collection and save"):
        page.get_by_label("Unit price").fill("24.50")
        page.get_by_label("Collection").select_option(label="Home")
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page).to_have_url(re.compile(r"/admin/product/$"))
        expect(page.get_by_role("status")).to_have_text(f"Product “{title}” was added.")

    with step("find it by searching the changelist"):
        # The admin's own search box, in the page's main part (the header has the shop's).
        search = page.get_by_role("main").get_by_role("searchbox", name="Search products")
        search.fill("Stoneware")
        page.get_by_role("button", name="Search", exact=True).click()
        expect(page).to_have_url(re.compile(r"/admin/product/\?q=Stoneware$"))
        expect(page.locator(".result-count")).to_contain_text(re.compile(r"\b1 result\b"))
        row = row_with_link(page, title)
        expect(row.get_by_label(f"Unit price of {title}")).to_have_value("24.50")
        expect(row.get_by_role("link", name="Home", exact=True)).to_be_visible()

    with step("an order's customer picker finds customers as you type"):
        customer = models.Customer.select().order_by(models.Customer.id).first()
        page.goto("/admin/order/add")
        page.get_by_role("combobox", name="Search for customer").fill(customer.email)
        choice = page.get_by_role("option").filter(has_text=f"(#{customer.id})")
        expect(choice).to_have_count(1)
        choice.click()
        expect(page.locator("#customer")).to_have_value(str(customer.id))
        expect(page.locator("#customer + .picker-label")).to_have_text(str(customer))

    with step("the visitor searches again and finds it in the shop"):
        # The visitor has no session, so the shop serves them cached pages: saving the
        # product must have emptied the cache.
        visitor.goto("/")
        search_from_the_navigation_bar(visitor, "Teapot")
        card = visitor.locator(".product-card").filter(has_text=title)
        expect(card).to_have_count(1)
        expect(card.locator(".product-price")).to_have_text("$24.50")
        card.get_by_role("link", name=title, exact=True).click()
        expect(visitor.get_by_role("heading", name=title)).to_be_visible()
        expect(visitor.get_by_text("Glazed by hand; holds four cups.")).to_be_visible()

    assert_no_browser_errors(console_errors, accessibility_problems)


def log_in_as_staff(page):
    page.goto("/accounts/login")
    page.get_by_label("Username").fill("boss")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("status")).to_have_text("Welcome back, boss.")


def test_staff_pick_with_the_keyboard_add_rows_and_act_on_a_whole_list(
        new_page, step, console_errors, accessibility_problems, monkeypatch):
    import app as storefront
    monkeypatch.setattr(storefront.REGISTRY["product"], "list_per_page", 5)
    # A first name several customers share: the picker finds each of them.
    name = (models.Customer.select(models.Customer.first_name).group_by(models.Customer.first_name)
            .order_by(peewee.fn.COUNT(models.Customer.id).desc()).scalar())
    found = storefront.REGISTRY["customer"].search(models.Customer.select(), name).count()
    low = Product.select().where(Product.inventory.between(1, 9)).count()
    products = [p.id for p in Product.select().order_by(Product.id).limit(2)]
    models.db.close()
    page = new_page()
    log_in_as_staff(page)

    with step("the picker says when nothing matches, to screen readers too"):
        page.goto("/admin/order/add")
        search = page.get_by_role("combobox", name="Search for customer")
        expect(search).to_have_attribute("aria-expanded", "false")
        search.fill("zzzz nobody")
        expect(page.locator("#customer ~ .picker-status")).to_have_text("No matches.")
        expect(page.locator("#customer ~ .picker-status")).to_have_attribute("role", "status")
        expect(search).to_have_attribute("aria-expanded", "false")

    with step("arrows move through the results; Escape closes them and keeps the text"):
        assert found >= 2
        search.fill(name)
        listbox = page.get_by_role("listbox", name="Matches for customer")
        expect(listbox.get_by_role("option")).to_have_count(found)
        expect(search).to_have_attribute("aria-expanded", "true")
        expect(listbox.locator("li button")).to_have_count(0)      # options hold no buttons
        search.press("ArrowDown")
        second = listbox.get_by_role("option").nth(1)
        expect(second).to_have_attribute("aria-selected", "true")
        expect(search).to_have_attribute("aria-activedescendant", second.get_attribute("id"))
        search.press("Escape")
        expect(listbox).to_be_hidden()
        expect(search).to_have_value(name)
        expect(search).to_have_attribute("aria-expanded", "false")

    with step("Enter picks the highlighted customer and submits nothing"):
        search.press("ArrowDown")
        expect(listbox).to_be_visible()
        search.press("ArrowDown")
        picked = listbox.get_by_role("option").nth(1).inner_text()
        sent = []
        page.on("request", lambda request: sent.append(request.url)
                if request.method == "POST" else None)
        search.press("Enter")
        # Enter in a form presses its first button, here "Add another order item": no new row.
        expect(page.locator("#orderitem-group tbody tr")).to_have_count(2)
        ident = re.search(r"\(#(\d+)\)", picked).group(1)
        expect(page.locator("#customer")).to_have_value(ident)
        expect(listbox).to_be_hidden()

    with step("the list closes when the focus leaves the picker"):
        with page.expect_response(re.compile(r"/autocomplete\?")):
            search.fill(name)
        assert not sent, f"Enter in the picker sent the whole form: {sent}"
        expect(listbox).to_be_visible()
        page.get_by_label("Payment status").focus()
        expect(listbox).to_be_hidden()

    with step("Add another order item adds a row whose picker works"):
        rows = page.locator("#orderitem-group tbody tr")
        expect(rows).to_have_count(2)
        page.get_by_role("button", name="Add another order item").click()
        expect(rows).to_have_count(3)
        expect(page.locator('input[name="orderitem-TOTAL"]')).to_have_value("3")
        new_row = rows.nth(2)
        expect(new_row.get_by_role("combobox")).to_have_count(1)
        new_row.locator('input[name="orderitem-2-product"]').fill(str(products[0]))
        new_row.locator('input[name="orderitem-2-quantity"]').fill("2")
        new_row.locator('input[name="orderitem-2-unit_price"]').fill("3.50")
        page.get_by_label("Payment status").select_option(label="Pending")
        # Enter in a field saves, as in Django: the form's first button is a hidden Save.
        new_row.locator('input[name="orderitem-2-unit_price"]').press("Enter")
        expect(page.get_by_role("status")).to_contain_text("was added")

    with step("tick the page, then select all the list's low-stock products"):
        page.goto("/admin/product/?stock=low")
        across = page.get_by_label(f"Select all {low} products")
        expect(across).to_be_hidden()
        page.get_by_label("Select all rows on this page").check()
        expect(page.locator(".selection-count")).to_have_text("5 of 5 selected")
        across.check()
        page.get_by_label("Action").select_option(label="Clear inventory of the selected products")
        page.get_by_role("button", name="Go").click()
        expect(page.locator(".confirm-count")).to_contain_text(f"{low} products")
        page.get_by_role("button", name="Yes, clear inventory of the selected products").click()
        expect(page.get_by_role("status")).to_have_text(
            f"Clear inventory of the selected products: {low} rows changed.")
        expect(page.locator(".result-count")).to_contain_text(re.compile(r"^\s*0 results"))

    assert_no_browser_errors(console_errors, accessibility_problems)


def test_a_forgotten_password_is_reset_by_email(new_page, step, console_errors,
                                                accessibility_problems, settings):
    """A customer who forgot the password asks for a link, opens it from the email (a file
    here: no mail server) and sets a new one; a browser still logged in elsewhere is out."""
    elsewhere, page = new_page(), new_page()

    with step("the customer is still logged in on another computer"):
        elsewhere.goto("/accounts/login")
        elsewhere.get_by_label("Username").fill("boss")
        elsewhere.get_by_label("Password").fill(PASSWORD)
        elsewhere.get_by_role("button", name="Log in").click()
        expect(elsewhere.get_by_role("status")).to_have_text("Welcome back, boss.")

    with step("ask for a link from the login page"):
        page.goto("/accounts/login")
        page.get_by_role("link", name="Forgot your password?").click()
        page.get_by_label("Email").fill("boss@example.com")
        page.get_by_role("button", name="Send me a link").click()
        expect(page).to_have_url(re.compile(r"/accounts/login$"))
        expect(page.get_by_role("status")).to_contain_text("If an account has this address")

    with step("open the link of the email and set a new password"):
        storefront.background_done()            # the mail is written after the answer
        mail, = pathlib.Path(settings.data_dir, "mail").glob("*.eml")
        body = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default)
        page.goto(re.search(r"http://\S+", body.get_content()).group(0))
        expect(page).to_have_url(re.compile(r"/accounts/password/reset/\d+/set-password$"))
        page.get_by_label("New password", exact=True).fill("a teapot of my own")
        page.get_by_label("New password again").fill("a teapot of my own")
        page.get_by_role("button", name="Set password").click()
        expect(page.get_by_role("status")).to_have_text("Your new password is set: log in with it.")

    with step("log in with it; the other computer is logged out"):
        page.get_by_label("Username").fill("boss")
        page.get_by_label("Password").fill("a teapot of my own")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("status")).to_have_text("Welcome back, boss.")
        elsewhere.reload()
        expect(elsewhere.get_by_role("link", name="Log in")).to_be_visible()

    assert_no_browser_errors(console_errors, accessibility_problems)


def test_the_admin_on_a_phone(new_page, browser, server, step, console_errors,
                              accessibility_problems):
    context = browser.new_context(base_url=server, viewport={"width": 390, "height": 844})
    page = context.new_page()
    log_in_as_staff(page)

    def page_fits():
        return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    def across_the_screen(locator):
        """The element is visible and lies within the phone's width."""
        expect(locator).to_be_visible()
        box = locator.bounding_box()
        assert 0 <= box["x"] and box["x"] + box["width"] <= 390, box

    with step("the filters fold behind a Filters button"):
        page.goto("/admin/product/")
        button = page.locator("details.admin-filters > summary")
        expect(button).to_be_visible()
        expect(button).to_contain_text("Filters")
        expect(page.get_by_role("link", name="Out of stock")).to_be_hidden()
        button.click()
        expect(page.get_by_role("link", name="Out of stock")).to_be_visible()

    with step("the table scrolls inside its card; search, actions and names stay usable"):
        assert page_fits(), "the page itself scrolls sideways"
        assert page.evaluate("(() => { const w = document.querySelector('.changelist-wrap');"
                             " return w.scrollWidth > w.clientWidth; })()")
        page.locator(".changelist-wrap").evaluate("w => w.scrollLeft = w.scrollWidth")
        name = page.locator(".changelist-table tbody tr").first.locator("td").nth(1)
        across_the_screen(name.get_by_role("link"))       # scrolled right, still in view
        across_the_screen(page.get_by_role("main").get_by_role("searchbox"))
        across_the_screen(page.get_by_label("Action"))
        across_the_screen(page.get_by_role("button", name="Go"))

    with step("the order form and its items fit"):
        page.goto("/admin/order/add")
        assert page_fits(), "the order form scrolls sideways"
        expect(page.get_by_role("button", name="Add another order item")).to_be_visible()

    context.close()
    assert_no_browser_errors(console_errors, accessibility_problems)


def test_every_kind_of_page_is_accessible_on_a_phone(browser, server, accessibility_problems):
    """axe-core on one page of each kind, 390 px wide, as a visitor and as staff: what scrolls
    must be reachable by keyboard, what is cut short must still have a name."""
    product = Product.select().where(Product.inventory > 0).first()
    models.db.close()
    pages = {"visitor": ["/", "/products", f"/products/{product.id}", "/collections",
                         "/accounts/login", "/accounts/register", "/accounts/password/reset",
                         "/accounts/password/reset/1/not-a-token", "/cart", "/playground/",
                         "/playground/orm-filtering", "/api/docs", "/no-such-page"],
             "boss": ["/accounts/", "/orders", "/admin/", "/admin/product/",
                      f"/admin/product/{product.id}/", "/admin/order/add"]}
    seen = set()
    for who, paths in pages.items():
        context = browser.new_context(base_url=server, viewport={"width": 390, "height": 844})
        page = context.new_page()
        if who != "visitor":
            page.goto("/accounts/login")
            page.get_by_label("Username").fill(who)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
        for path in paths:
            page.goto(path)
            check_accessibility(page, accessibility_problems, seen)
        context.close()
    assert not accessibility_problems, "\n".join(accessibility_problems)


def test_the_layout_holds_at_laptop_and_phone_width(browser, server):
    """What a shopper sees at 1280 and 390 px: no lone card on the home page's last row, one
    search box on the catalog, the header's links in one row on a phone, nothing wider than
    the screen on the orders pages."""
    customer = models.Customer.select().join(models.Order).first()
    user = models.User.create_user("dora", "dora@example.com", PASSWORD)
    customer.user = user
    customer.save()
    order = models.Order.select().where(models.Order.customer == customer).first()
    models.db.close()
    for width in (1280, 390):
        context = browser.new_context(base_url=server, viewport={"width": width, "height": 900})
        page = context.new_page()
        page.goto("/")
        tops = [box["y"] for box in (card.bounding_box() for card in
                                     page.locator(".product-grid .product-card").all())]
        assert tops.count(tops[-1]) > 1, f"a lone card on the last row at {width} px: {tops}"
        page.goto("/products")
        expect(page.locator("input[type=search]")).to_have_count(1)
        page.goto("/accounts/login")
        page.get_by_label("Username").fill("dora")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        links = page.locator(".nav-links > li:visible")
        if width == 390:
            rows = {round(box["y"]) for box in (li.bounding_box() for li in links.all())}
            assert len(rows) == 1, f"the header's links take {len(rows)} rows on a phone"
        for path in ("/orders", f"/orders/{order.id}"):
            page.goto(path)
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= width, f"{path} is {wide} px wide on a {width} px screen"
            total = page.locator(".total").first if path != "/orders" else \
                page.locator("td[data-label=Total]").first
            expect(total).to_be_in_viewport()
        context.close()


def test_the_pages_forms_lead_to_are_accessible(browser, server, accessibility_problems,
                                                console_errors, monkeypatch):
    """axe-core, at 1280 and 390 px, on the pages a form leads to: the product import's
    refusal, preview (each kind of row) and its 409; API tokens made and shown once, on the
    account page and in the admin; a product's form with its photo's error; and a gallery,
    the cart, checkout and a second page of orders with photos."""
    from test_import import HEADER, to_csv
    monkeypatch.setattr(storefront.settings, "page_size", 2)   # orders on more than one page
    changed, same = Product.select().where(Product.inventory > 0).order_by(Product.id).limit(2)
    models.ProductImage.create(product=same, photo=models._demo_photo("Z", 3), position=1,
                               alt="A drawing of the letter Z")        # a gallery
    boss = models.User.get(models.User.username == "boss")
    models.Customer.update(user=boss).where(
        models.Customer.id == models.Order.select().first().customer_id).execute()

    def row(product, **change):
        return list(dict(zip(HEADER, (product.slug, product.title, product.collection.title,
                                      str(product.unit_price), str(product.inventory),
                                      product.description)), **change).values())
    files = [to_csv([HEADER, row(changed, **{"Unit price": "77.00"}), row(same),
                     row(same, Slug="", Title="Fresh Bread"), row(same, Slug="Not A Slug")]),
             to_csv([HEADER, row(changed, **{"Unit price": "78.00"})])]
    models.db.close()
    seen = set()
    for width in (1280, 390):
        context = browser.new_context(base_url=server, viewport={"width": width, "height": 900})
        page = context.new_page()
        page.on("pageerror", lambda error: console_errors.append(f"{page.url}: {error}"))
        log_in_as_staff(page)

        def check(what):
            found = len(accessibility_problems)
            seen.discard(page.url)      # one address, several pages: a form's answers
            check_accessibility(page, accessibility_problems, seen)
            accessibility_problems[found:] = [f"{what} at {width} px: {problem}"
                                              for problem in accessibility_problems[found:]]

        def whole(wrap):
            """The table shows all its columns, with no scrolling sideways (a phone's cards)."""
            assert page.locator(wrap).evaluate("w => w.scrollWidth <= w.clientWidth"), \
                f"{wrap} scrolls at {width} px"

        page.goto("/admin/product/import")
        page.get_by_role("button", name="Preview the import").click()
        expect(page.locator("#import-file-errors")).to_be_visible()
        check("the import with no file")
        for n, content in enumerate(files):
            page.goto("/admin/product/import")
            page.get_by_label(re.compile("^CSV file")).set_input_files(
                files=[{"name": "products.csv", "mimeType": "text/csv", "buffer": content}])
            page.get_by_role("button", name="Preview the import").click()
            expect(page.locator(".import-counts")).to_be_visible()
            check(f"import preview {n}")
            whole(".table-wrap:has(> .import-table)")
        Product.update(inventory=Product.inventory + 1).where(Product.id == changed.id).execute()
        models.db.close()
        page.locator("#import-confirm-form button").click()
        expect(page.get_by_text("changed since you saw its preview")).to_be_visible()
        check("the import's 409")

        page.goto("/accounts/")
        page.get_by_role("button", name="Make a token").click()
        check("a token without a name")
        page.locator("#token-form").get_by_label("Name").fill(f"script {width}")
        page.get_by_role("button", name="Make a token").click()
        expect(page.locator("#new-token")).to_be_visible()
        check("a token shown once")
        page.goto("/accounts/")
        check("the account's tokens")
        whole(".account-tokens .table-wrap")
        page.goto("/admin/apitoken/add")
        page.locator("#user").fill(str(boss.id))
        page.get_by_label("Name").fill(f"robot {width}")
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.locator("#new-token")).to_be_visible()
        check("the admin's token shown once")
        for path in ("/admin/apitoken/", f"/admin/product/{same.id}/"):
            page.goto(path)
            check(path)
        page.locator('input[name="productimage-0-alt"]').fill("")
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.get_by_role("alert")).to_be_visible()
        check("a photo without alt text")

        page.goto(f"/products/{same.id}")
        expect(page.locator(".gallery-more img")).to_have_count(1)
        check("a gallery")
        page.get_by_role("button", name="Add to cart", exact=True).click()
        for path in ("/cart", "/checkout", "/orders", "/orders?page=2"):
            page.goto(path)
            check(path)
        context.close()
    assert not console_errors, "\n".join(console_errors)
    assert not accessibility_problems, "axe-core found accessibility problems:\n" + \
        "\n".join(accessibility_problems)
