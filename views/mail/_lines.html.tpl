%# The order's lines as an HTML table. Expects: lines (OrderItems with .product), total, money.
<table cellpadding="4" style="border-collapse:collapse">
  <thead><tr><th align="left">Product</th><th align="right">Unit price</th><th align="right">Qty</th><th align="right">Line total</th></tr></thead>
  <tbody>
  % for line in lines:
  <tr><td>{{line.product.title}}</td><td align="right">{{money(line.unit_price)}}{{!f" <s>{money(line.list_price)}</s>" if line.discounted else ""}}</td><td align="right">{{line.quantity}}</td><td align="right">{{money(line.line_total)}}</td></tr>
  % end
  </tbody>
  <tfoot><tr><th colspan="3" align="left">Total</th><td align="right"><strong>{{money(total)}}</strong></td></tr></tfoot>
</table>
