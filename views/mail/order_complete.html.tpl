%# The customer is told the payment of an order went through. Expects: order, lines, total, link, money.
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Your order #{{order.id}} is complete</title></head>
<body style="font-family:sans-serif">
<p>Hello {{order.customer.first_name}},</p>
<p>The payment of your order #{{order.id}} ({{money(total)}}) has gone through: the order is complete.</p>
% include("mail/_lines.html", lines=lines, total=total, money=money)
<p><a href="{{link}}">Your order</a></p>
</body></html>
