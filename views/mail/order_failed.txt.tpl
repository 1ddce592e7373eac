%# The customer is told the payment of an order failed. Expects: order, total, link, money.
Subject: The payment of your order #{{!order.id}} failed
Hello {{!order.customer.first_name}},

The payment of your order #{{!order.id}} ({{!money(total)}}) did not go through, so the order
will not be delivered. If you still want these things, please order them again.

Your order:
{{!link}}
