/** The tablet map: each row range, its replica group, that group's primary and secondaries. */
import type { TabletStatus } from '../api/admin-api';
import { formatBytes } from '../ui/format';

export function TabletsTable({ tablets }: { tablets: TabletStatus[] }) {
  return (
    <section class="panel admin-section" aria-labelledby="tablets-title">
      <h2 id="tablets-title">Tablets</h2>
      {tablets.length === 0 ? <p class="muted">The store reports no tablets.</p> : (
        <div class="table-scroll">
          <table class="data-table">
            <thead>
              <tr>
                <th scope="col">Rows from</th>
                <th scope="col">to</th>
                <th scope="col">Group</th>
                <th scope="col">Primary</th>
                <th scope="col">Secondaries</th>
                <th scope="col" class="num">Size</th>
              </tr>
            </thead>
            <tbody>
              {tablets.map((t) => (
                <tr key={t.id}>
                  <td><code>{t.start === '' ? '(start)' : t.start}</code></td>
                  <td><code>{t.end === null || t.end === '' ? '(end)' : t.end}</code></td>
                  <td>{t.group}</td>
                  <td>{t.primary ?? <span class="badge badge-bad">NONE</span>}</td>
                  <td>{t.secondaries.join(', ') || '—'}</td>
                  <td class="num">{t.bytes === null ? '—' : formatBytes(t.bytes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
