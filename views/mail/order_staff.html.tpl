%# The staff's notice of a new order. Expects: order, lines, total, address, admin_link, money, date.
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>New order #{{order.id}}</title></head>
<body style="font-family:sans-serif">
<p>Order #{{order.id}} was placed {{date(order.placed_at)}} by {{order.customer.first_name}} {{order.customer.last_name}} &lt;{{order.customer.email}}&gt;.</p>
% include("mail/_lines.html", lines=lines, total=total, money=money)
<p>Deliver to:</p>
% include("mail/_address.html", order=order, address=address)
<p><a href="{{admin_link}}">The order in the admin</a></p>
</body></html>
