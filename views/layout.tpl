%# The layout every page rebases on. Expects: title, base (the page's own HTML), user, url,
%# static_url, csrf_token, flashes, cart_count, request, stylesheet (render() names the area's);
%# optionally description (else the site's); the catalog adds q and search_keeps (the filters
%# a new search keeps). Pages call rebase('layout').
<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{{title + " · " if title else ""}}Storefront</title>
  <meta name="description" content="{{get('description') or 'Storefront: a small shop of everyday goods, and the code that runs it, to learn from.'}}">
  <link rel="stylesheet" href="{{static_url('css/base.css')}}">
  % if get('stylesheet'):
  <link rel="stylesheet" href="{{static_url(stylesheet)}}">
  % end
  <link rel="icon" href="{{static_url('img/favicon.svg')}}" type="image/svg+xml">
</head>
<body class="{{get('body_class', '')}}">
  <a class="skip-link" href="#main">Skip to content</a>
  <header class="site-header">
    <nav class="container nav" aria-label="Main">
      <a class="brand" href="{{url('home')}}"><span class="brand-mark" aria-hidden="true">◆</span> Storefront</a>
      <form class="nav-search" action="{{url('catalog')}}" method="get" role="search" aria-label="Search the shop">
        <label class="visually-hidden" for="nav-q">Search products</label>
        <input id="nav-q" type="search" name="q" placeholder="Search products" value="{{get('q', '')}}" maxlength="100">
        % for name, value in get('search_keeps', {}).items():
        % if value:
        <input type="hidden" name="{{name}}" value="{{value}}">
        % end
        % end
      </form>
      <ul class="nav-links">
        <li><a href="{{url('catalog')}}">Shop</a></li>
        <li{{!' class="nav-optional"' if user else ''}}><a href="{{url('collections')}}">Collections</a></li>
        <li class="nav-optional"><a href="{{url('playground')}}">Playground</a></li>
        % if user:
        % if user.is_staff:
        <li><a href="{{url('admin_index')}}"{{!' aria-current="page"' if request.path.startswith(url('admin_index')) else ''}}>Admin</a></li>
        % end
        <li><a class="nav-account" href="{{url('account')}}" title="Your account">{{user.username}}</a></li>
        <li>
          <form action="{{url('logout')}}" method="post" class="inline-form">
            % include('_csrf')
            <button type="submit" class="link-button">Log out</button>
          </form>
        </li>
        % else:
        <li><a href="{{url('login')}}">Log in</a></li>
        <li><a href="{{url('register')}}">Register</a></li>
        % end
        <li><a class="cart-link" href="{{url('cart')}}">Cart <span class="badge">{{cart_count()}}</span></a></li>
      </ul>
    </nav>
  </header>
  <main id="main" class="container">
    % for category, message in flashes():
    <div class="flash flash-{{category}}" role="status">{{message}}</div>
    % end
    {{!base}}
  </main>
  <footer class="site-footer">
    <div class="container">Storefront — a small shop written with Bottle, Peewee and Beaker. <a href="{{url('playground')}}">Learn how it works</a>.</div>
  </footer>
  % if get('body_class') == 'admin':
  <script src="{{static_url('js/admin.js')}}" defer></script>
  % end
</body>
</html>
