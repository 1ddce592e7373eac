%# The customer's confirmation of a new order. Expects: order, lines, total, address, link, money, date.
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Your order #{{order.id}} at Storefront</title></head>
<body style="font-family:sans-serif">
<p>Hello {{order.customer.first_name}},</p>
<p>Thank you for your order #{{order.id}}, placed {{date(order.placed_at)}}.</p>
% include("mail/_lines.html", lines=lines, total=total, money=money)
<p>It will be delivered to:</p>
% include("mail/_address.html", order=order, address=address)
<p><a href="{{link}}">See your order</a></p>
</body></html>
