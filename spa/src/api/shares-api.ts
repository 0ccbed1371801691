/** Share links: `/api/shares` for their owner, `/api/public/shares` for visitors (docs/api.md). */
import { dispatcherUrl } from './page-meta';
import { requestJson, send } from './http';
import type { DriveEntry } from './drive-api';

export interface ShareLink {
  token: string;
  url: string;
  type: 'file' | 'folder';
  name: string;
  path: string | null;
  createdMs: number;
  expiresMs: number | null;
  hasPassword: boolean;
}

/** The address to hand out: on the dispatcher, which every visitor can reach. */
export function shareAddress(link: ShareLink): string {
  return `${dispatcherUrl() ?? location.origin}${link.url}`;
}

export async function listShares(): Promise<ShareLink[]> {
  return (await requestJson<{ shares: ShareLink[] }>('GET', '/api/shares')).shares;
}

export async function createShare(path: string, expiresInDays: number | null, password: string | null): Promise<ShareLink> {
  return (await requestJson<{ share: ShareLink }>('POST', '/api/shares', { json: { path, expiresInDays, password } })).share;
}

export async function revokeShare(token: string): Promise<void> {
  await send('DELETE', `/api/shares/${encodeURIComponent(token)}`);
}

/** What a link shows a visitor: a file, or a page of a folder. */
export interface SharedView {
  share: { name: string; type: 'file' | 'folder'; expiresMs: number | null };
  file?: DriveEntry;
  folder?: DriveEntry;
  entries?: DriveEntry[];
}

function publicBase(token: string): string {
  return `/api/public/shares/${encodeURIComponent(token)}`;
}

export async function openShare(token: string, path: string): Promise<SharedView> {
  return requestJson('GET', `${publicBase(token)}?path=${encodeURIComponent(path)}`, { quietUnauthenticated: true });
}

export async function unlockShare(token: string, password: string): Promise<void> {
  await send('POST', `${publicBase(token)}/unlock`, { json: { password }, quietUnauthenticated: true });
}

/** The URL of a shared file's bytes; `inline` to show it in place. */
export function sharedFileUrl(token: string, path: string, inline = false): string {
  return `${publicBase(token)}/content?path=${encodeURIComponent(path)}${inline ? '&inline=1' : ''}`;
}

/** A folder another user shares with the caller. */
export interface SharedFolderInfo {
  owner: string;
  id: string;
  name: string;
  grantedMs: number;
}

/** Whom the caller shares a folder with. */
export interface FolderGrant {
  user: string;
  id: string;
  path: string | null;
  grantedMs: number;
}

export async function sharedWithMe(): Promise<SharedFolderInfo[]> {
  return (await requestJson<{ folders: SharedFolderInfo[] }>('GET', '/api/shared')).folders;
}

export async function openSharedFolder(owner: string, id: string, path: string): Promise<SharedView> {
  return requestJson('GET', `/api/shared/${encodeURIComponent(owner)}/${encodeURIComponent(id)}?path=${encodeURIComponent(path)}`);
}

export function sharedFolderFileUrl(owner: string, id: string, path: string): string {
  return `/api/shared/${encodeURIComponent(owner)}/${encodeURIComponent(id)}/content?path=${encodeURIComponent(path)}`;
}

export async function listGrants(): Promise<FolderGrant[]> {
  return (await requestJson<{ grants: FolderGrant[] }>('GET', '/api/shares/users')).grants;
}

export async function grantFolder(path: string, user: string): Promise<FolderGrant> {
  return (await requestJson<{ grant: FolderGrant }>('POST', '/api/shares/users', { json: { path, user } })).grant;
}

export async function revokeGrant(user: string, id: string): Promise<void> {
  await send('DELETE', `/api/shares/users/${encodeURIComponent(user)}/${encodeURIComponent(id)}`);
}
