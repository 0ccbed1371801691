/** Every frontend and storage node with its state, refreshed by the page; disable and restart. */
import { useState } from 'preact/hooks';
import { describeError } from '../api/api-error';
import { disableNode, restartNode, type NodeStatus } from '../api/admin-api';
import { formatAge, formatBytes, formatWhen } from '../ui/format';
import { toast } from '../ui/toasts';

const GOOD = new Set(['alive', 'up', 'primary', 'secondary', 'ready']);
/** States in which there is nothing to disable. */
const BAD = new Set(['down', 'disabled', 'dead', 'stopped']);

function tone(state: string): 'good' | 'bad' | 'wait' {
  const s = state.toLowerCase();
  if (GOOD.has(s)) return 'good';
  if (BAD.has(s)) return 'bad';
  return 'wait';
}

export interface NodesTableProps {
  title: string;
  nodes: NodeStatus[];
  onChanged: () => void;
  actionsEnabled: boolean;
  note?: string | null;
}

export function NodesTable({ title, nodes, onChanged, actionsEnabled, note }: NodesTableProps) {
  const [busy, setBusy] = useState<string | null>(null);
  if (nodes.length === 0) return null;
  const storage = nodes[0]!.kind === 'storage';
  const act = async (node: NodeStatus, action: 'disable' | 'restart') => {
    setBusy(`${node.id}:${action}`);
    try {
      await (action === 'disable' ? disableNode(node.id) : restartNode(node.id));
      toast(`${node.label}: ${action === 'disable' ? 'disabled' : 'restarting'}.`);
      onChanged();
    } catch (err) {
      toast(`${node.label}: ${describeError(err)}`, 'error');
    } finally {
      setBusy(null);
    }
  };
  return (
    <section class="panel admin-section" aria-labelledby={`nodes-${title}`}>
      <h2 id={`nodes-${title}`}>{title}</h2>
      {note && <p class="muted">{note}</p>}
      <div class="table-scroll">
        <table class="data-table">
          <thead>
            <tr>
              <th scope="col">Node</th>
              <th scope="col">State</th>
              {storage && <th scope="col">View</th>}
              {storage && <th scope="col">Tablets</th>}
              {storage && <th scope="col" class="num">Memory</th>}
              {storage && <th scope="col" class="num">Log</th>}
              {storage && <th scope="col">Checkpoint</th>}
              {storage && <th scope="col">Heartbeat</th>}
              <th scope="col"><span class="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {nodes.map((n) => (
              <tr key={n.id} data-node-id={n.id}>
                <th scope="row"><span class="node-label">{n.label}</span><span class="node-address muted">{n.address}</span></th>
                <td><span class={`badge badge-${tone(n.state)}`} data-testid="node-state">{n.state.toUpperCase()}</span></td>
                {storage && <td>{n.view ?? '—'}</td>}
                {storage && <td>{n.tablets ?? '—'}</td>}
                {storage && <td class="num">{n.memoryBytes === null ? '—' : formatBytes(n.memoryBytes)}</td>}
                {storage && <td class="num">{n.logBytes === null ? '—' : formatBytes(n.logBytes)}</td>}
                {storage && <td>{n.lastCheckpointMs === null ? '—' : formatWhen(n.lastCheckpointMs)}</td>}
                {storage && <td>{n.heartbeatAgeMs === null ? '—' : formatAge(n.heartbeatAgeMs)}</td>}
                <td class="actions">
                  <div class="row-buttons">
                    <button type="button" class="button button-small" disabled={!actionsEnabled || busy !== null || BAD.has(n.state.toLowerCase())}
                      onClick={() => act(n, 'disable')} aria-label={`Disable ${n.label}`}>Disable</button>
                    <button type="button" class="button button-small" disabled={!actionsEnabled || busy !== null}
                      onClick={() => act(n, 'restart')} aria-label={`Restart ${n.label}`}>Restart</button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
