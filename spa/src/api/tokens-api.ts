/** Personal access tokens: `/api/tokens` (docs/api.md). */
import { requestJson, send } from './http';

export type TokenScope = 'read' | 'read-write';

export interface ApiToken {
  id: string;
  name: string;
  scope: TokenScope;
  createdMs: number;
  expiresMs: number | null;
  lastUsedMs: number | null;
}

export async function listTokens(): Promise<ApiToken[]> {
  return (await requestJson<{ tokens: ApiToken[] }>('GET', '/api/tokens')).tokens;
}

/** Makes a token; the reply's `secret` is the only time the token text is seen. */
export async function createToken(name: string, scope: TokenScope, expiresInDays: number | null): Promise<{ token: ApiToken; secret: string }> {
  return requestJson('POST', '/api/tokens', { json: { name, scope, expiresInDays } });
}

export async function revokeToken(id: string): Promise<void> {
  await send('DELETE', `/api/tokens/${encodeURIComponent(id)}`);
}
