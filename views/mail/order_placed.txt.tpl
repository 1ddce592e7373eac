%# The customer's confirmation of a new order. Plain text: values print as they are ({{!...}}), and the first line is the subject. Expects: order, lines, total, address, link, money, date.
Subject: Your order #{{!order.id}} at Storefront
Hello {{!order.customer.first_name}},

Thank you for your order #{{!order.id}}, placed {{!date(order.placed_at)}}.

% include("mail/_lines.txt", lines=lines, total=total, money=money)

It will be delivered to:
% include("mail/_address.txt", order=order, address=address)

You can see your order at any time here:
{{!link}}
