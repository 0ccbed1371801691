/** The store's raw cells, one tablet at a time, ten cells a page with previous and next. */
import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../api/api-error';
import { readCells, type CellPage, type TabletStatus } from '../api/admin-api';
import { formatBytes } from '../ui/format';
import { Loading } from '../ui/states';

export function RawData({ tablets }: { tablets: TabletStatus[] }) {
  const [tablet, setTablet] = useState<string | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  // The cursors of the pages before this one, so Previous steps back one page (the API pages forward only).
  const [before, setBefore] = useState<(string | null)[]>([]);
  const [page, setPage] = useState<CellPage | null>(null);
  const [error, setError] = useState<string | null>(null);
  const chosen = tablet ?? tablets[0]?.start ?? null;

  useEffect(() => {
    if (chosen === null) return;
    const abort = new AbortController();
    setPage(null);
    setError(null);
    readCells(chosen, cursor, abort.signal).then(setPage, (err: unknown) => { if (!abort.signal.aborted) setError(describeError(err)); });
    return () => abort.abort();
  }, [chosen, cursor]);

  return (
    <section class="panel admin-section" aria-labelledby="data-title">
      <div class="section-head">
        <h2 id="data-title">Raw data</h2>
        <label class="inline-field">
          <span>Tablet</span>
          <select class="select" value={chosen ?? ''} onChange={(e) => { setTablet((e.currentTarget as HTMLSelectElement).value); setCursor(null); setBefore([]); }}>
            {tablets.map((t) => <option key={t.id} value={t.start}>{t.start === '' ? '(start)' : t.start} · group {t.group}</option>)}
          </select>
        </label>
      </div>
      {error !== null && <p class="form-error" role="alert">{error}</p>}
      {error === null && page === null && chosen !== null && <Loading label="Reading cells…" />}
      {page !== null && (page.cells.length === 0 ? <p class="muted">No cells here.</p> : (
        <div class="table-scroll">
          <table class="data-table cells">
            <thead><tr><th scope="col">Row</th><th scope="col">Column</th><th scope="col">Value</th><th scope="col" class="num">Size</th></tr></thead>
            <tbody>
              {page.cells.map((c) => (
                <tr key={`${c.row}\u0000${c.column}`}>
                  <td><code class="break">{c.row}</code></td>
                  <td><code class="break">{c.column}</code></td>
                  <td><code class={`break cell-value${c.hex ? ' cell-hex' : ''}`}>{c.value}{c.truncated && <span class="muted"> …</span>}</code>{c.hex && <span class="badge badge-wait">HEX</span>}</td>
                  <td class="num">{formatBytes(c.sizeBytes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
      <div class="pager">
        <button type="button" class="button button-small" disabled={before.length === 0}
          onClick={() => { setCursor(before[before.length - 1] ?? null); setBefore(before.slice(0, -1)); }}>Previous</button>
        <button type="button" class="button button-small" disabled={page?.nextCursor == null}
          onClick={() => { setBefore([...before, cursor]); setCursor(page!.nextCursor); }}>Next</button>
      </div>
    </section>
  );
}
