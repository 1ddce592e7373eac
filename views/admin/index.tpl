%# The admin dashboard. Expects: areas ({area: [(spec, count)]}), recent (the viewer's own
%# AdminLogEntry rows, on models they may view), days (orders and revenue per day).
% rebase('layout')
<h1>Administration</h1>
<div class="admin-dashboard">
  <section class="admin-models">
    % for area, specs in areas.items():
    <div class="card admin-area">
      <h2>{{area}}</h2>
      <table class="table">
        <tbody>
        % for spec, count in specs:
        <tr>
          <th scope="row"><a href="{{url('admin_changelist', model=spec.name)}}">{{spec.plural}}</a></th>
          <td class="num">{{format(count, ',')}}</td>
          <td class="num">
            % if spec.permits(user, 'add'):
            <a href="{{url('admin_add', model=spec.name)}}" aria-label="Add {{spec.label.lower()}}">+ Add</a>
            % end
          </td>
        </tr>
        % end
        </tbody>
      </table>
    </div>
    % end
  </section>
  <aside class="admin-side">
    <section class="card">
      <h2>Sales, last 30 days</h2>
      % include('admin/_chart', days=days)
      <p class="muted">{{sum(d['orders'] for d in days)}} orders · {{money(sum(d['revenue'] for d in days))}} revenue</p>
    </section>
    <section class="card">
      <h2>My actions</h2>
      % if not recent:
      <p class="muted">None yet.</p>
      % end
      % labels = {spec.name: spec.label for specs in areas.values() for spec, _ in specs}
      <ul class="recent-actions">
        % for entry in recent:
        <li><span class="status action-{{entry.action}}">{{entry.action_name}}</span>
          % if not entry.is_deletion:
          <a href="{{url('admin_change', model=entry.model, ident=entry.object_id)}}">{{entry.object_repr}}</a>
          % else:
          {{entry.object_repr}}
          % end
          <span class="muted">{{labels.get(entry.model, entry.model)}} · {{date(entry.action_time)}}</span></li>
        % end
      </ul>
    </section>
  </aside>
</div>
