%# The delivery address as plain text. Expects: order (with .customer), address (or None).
  {{!order.customer.first_name}} {{!order.customer.last_name}}
% if address:
  {{!address.street}}
  {{!" ".join(part for part in (address.zip, address.city) if part)}}
% end
