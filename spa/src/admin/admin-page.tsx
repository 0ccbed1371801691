/**
 * The admin console: every frontend and storage node with its live state (refreshed every few
 * seconds), disable and restart, the tablet map, and the raw data. Only admins get the data;
 * anyone else, or a server without the admin API, sees a plain message saying so.
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { describeError } from '../api/api-error';
import { adminRefusal, listNodes, listTablets, type NodesReport, type TabletStatus } from '../api/admin-api';
import { ErrorState, Loading } from '../ui/states';
import { NodesTable } from './nodes-table';
import { RawData } from './raw-data';
import { TabletsTable } from './tablets-table';

/** How often node states refresh. */
export const ADMIN_REFRESH_MS = 2_000;

export function AdminPage() {
  const [nodes, setNodes] = useState<NodesReport | null>(null);
  const [tablets, setTablets] = useState<TabletStatus[] | null>(null);
  const [refusal, setRefusal] = useState<'missing' | 'forbidden' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [updatedMs, setUpdatedMs] = useState<number | null>(null);

  const refresh = useCallback(async () => {
    try {
      const [n, t] = await Promise.all([listNodes(), listTablets()]);
      setNodes(n);
      setTablets(t);
      setError(null);
      setUpdatedMs(Date.now());
    } catch (err) {
      const why = adminRefusal(err);
      if (why !== null) setRefusal(why);
      else setError(describeError(err));
    }
  }, []);

  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), ADMIN_REFRESH_MS);
    return () => clearInterval(timer);
  }, [refresh]);

  if (refusal === 'forbidden') {
    return <main class="page" id="main"><ErrorState title="Admins only" message="Your account is not an administrator of this cloud. Ask an administrator to add it in the configuration." /></main>;
  }
  if (refusal === 'missing') {
    return <main class="page" id="main"><ErrorState title="The admin console is not available" message="This server does not offer the admin API." /></main>;
  }
  return (
    <main class="page page-wide" id="main">
      <header class="page-head">
        <h1>Admin console</h1>
        <p class="muted live-note" aria-live="off">
          <span class="live-dot" aria-hidden="true" /> Live · {updatedMs === null ? 'loading' : `updated ${new Date(updatedMs).toLocaleTimeString()}`}
        </p>
      </header>
      {error !== null && <p class="form-error" role="alert">The last refresh failed: {error}</p>}
      {nodes === null ? <Loading label="Reading node states…" /> : (
        <>
          <NodesTable title="Frontends" nodes={nodes.nodes.filter((n) => n.kind === 'frontend')} onChanged={() => void refresh()}
            note={nodes.supervised ? null : 'This cloud does not run under penncloud up, so frontends cannot be stopped or started from here.'}
            actionsEnabled={nodes.supervised} />
          <NodesTable title="Storage nodes" nodes={nodes.nodes.filter((n) => n.kind === 'storage')} onChanged={() => void refresh()} actionsEnabled />
        </>
      )}
      {tablets !== null && <TabletsTable tablets={tablets} />}
      {tablets !== null && tablets.length > 0 && <RawData tablets={tablets} />}
    </main>
  );
}
