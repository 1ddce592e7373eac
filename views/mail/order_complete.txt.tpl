%# The customer is told the payment of an order went through. Expects: order, lines, total, link, money.
Subject: Your order #{{!order.id}} is complete
Hello {{!order.customer.first_name}},

The payment of your order #{{!order.id}} ({{!money(total)}}) has gone through: the order is complete.

% include("mail/_lines.txt", lines=lines, total=total, money=money)

Your order:
{{!link}}
