%# The staff's notice of a new order. Expects: order, lines, total, address, admin_link, money, date.
Subject: New order #{{!order.id}}: {{!money(total)}}
Order #{{!order.id}} was placed {{!date(order.placed_at)}} by {{!order.customer.first_name}} {{!order.customer.last_name}} <{{!order.customer.email}}>.

% include("mail/_lines.txt", lines=lines, total=total, money=money)

Deliver to:
% include("mail/_address.txt", order=order, address=address)

The order in the admin:
{{!admin_link}}
