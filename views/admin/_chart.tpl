%# An SVG bar chart of revenue per day, the order count in each bar's tooltip. Expects: days.
% width, height = 720, 180
% top = float(max((d['revenue'] for d in days), default=0) or 1)
% bar = width / max(1, len(days))
<svg class="chart" viewBox="0 0 {{width}} {{height}}" role="img" aria-label="Revenue per day for the last {{len(days)}} days">
  % for i, d in enumerate(days):
  % h = float(d['revenue']) / top * (height - 20)
  <rect x="{{'%.1f' % (i * bar + 1)}}" y="{{'%.1f' % (height - h)}}" width="{{'%.1f' % (bar - 2)}}" height="{{'%.1f' % h}}" class="bar"><title>{{d['day']}}: {{d['orders']}} orders, {{money(d['revenue'])}}</title></rect>
  % end
</svg>
