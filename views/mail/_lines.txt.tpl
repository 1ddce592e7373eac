%# The order's lines as plain text. Expects: lines (OrderItems with .product), total, money.
% for line in lines:
  {{!line.quantity}} × {{!line.product.title}} at {{!money(line.unit_price)}}{{!f" (was {money(line.list_price)})" if line.discounted else ""}}: {{!money(line.line_total)}}
% end
  Total: {{!money(total)}}
