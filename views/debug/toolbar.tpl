%# The debug toolbar, injected before </body>. Expects: record (Record), panels, url.
<div id="debug-toolbar">
  <link rel="stylesheet" href="{{static_url('css/debug.css')}}">
  <details class="dt">
    <summary class="dt-bar">
      <span class="dt-title">Debug</span>
      <span>{{'%.1f' % record.ms}} ms</span>
      <span>{{len(record.queries)}} SQL · {{'%.1f' % record.sql_ms()}} ms</span>
      <span>{{len(record.templates)}} template{{'' if len(record.templates) == 1 else 's'}}</span>
      <span>cache {{sum(1 for c in record.cache if c[2])}} hit / {{sum(1 for c in record.cache if not c[2])}} miss</span>
      <span>{{record.status}}</span>
    </summary>
    <nav class="dt-panels" aria-label="Debug panels">
      % for panel in panels:
      <a href="{{url('debug_panel', ident=record.id, panel=panel)}}">{{'SQL' if panel == 'sql' else panel.capitalize()}}</a>
      % end
      <a href="{{url('debug_history')}}">History</a>
    </nav>
  </details>
</div>
