%# The delivery address as HTML. Expects: order (with .customer), address (or None).
<p>{{order.customer.first_name}} {{order.customer.last_name}}
% if address:
<br>{{address.street}}<br>{{" ".join(part for part in (address.zip, address.city) if part)}}
% end
</p>
