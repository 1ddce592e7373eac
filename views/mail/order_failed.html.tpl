%# The customer is told the payment of an order failed. Expects: order, total, link, money.
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>The payment of your order #{{order.id}} failed</title></head>
<body style="font-family:sans-serif">
<p>Hello {{order.customer.first_name}},</p>
<p>The payment of your order #{{order.id}} ({{money(total)}}) did not go through, so the order will not be delivered. If you still want these things, please order them again.</p>
<p><a href="{{link}}">Your order</a></p>
</body></html>
