%# The toolbar's request history. Expects: records (newest first), url.
% include('debug/_head', title='Request history', url=url)
<h1>Recent requests</h1>
<p class="muted">The last {{len(records)}} requests from internal addresses, pages, JSON and redirects alike. Open one to see all its panels.</p>
<div class="table-wrap"><table class="table">
  <thead><tr><th scope="col">When (UTC)</th><th scope="col">Request</th><th scope="col">Status</th><th scope="col" class="num">Time</th><th scope="col" class="num">SQL</th></tr></thead>
  <tbody>
  % for r in records:
  <tr>
    <td>{{r.when.strftime('%H:%M:%S')}}</td>
    <td><a href="{{url('debug_panels', ident=r.id)}}">{{r.method}} {{r.path}}{{'?' + r.query if r.query else ''}}</a></td>
    <td>{{r.status}}</td><td class="num">{{'%.1f' % r.ms}} ms</td><td class="num">{{len(r.queries)}}</td>
  </tr>
  % end
  </tbody>
</table></div>
</main></body></html>
