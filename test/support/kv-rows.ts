/** Test support: reading back every row a store holds, through the KV client. */
import type { KvClient } from '../../lib/kvclient/kv-client.js';

/** Every row name in the store: each node's tablets as it reports them (splits included), all pages. */
export async function allRows(kv: KvClient): Promise<string[]> {
  const rows: string[] = [];
  for (const node of kv.clusterMap().nodes) {
    const status = await kv.status({ host: node.host, port: node.port });
    for (const tablet of status.tablets) {
      let after: string | null = null;
      for (let page = 0; page < 10_000; page++) {
        const result = await kv.listRows(tablet.start, { after, limit: 1000 });
        rows.push(...result.rows);
        if (!result.more || result.rows.length === 0) break;
        after = result.rows[result.rows.length - 1]!;
      }
    }
  }
  return rows;
}
