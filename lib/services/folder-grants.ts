/**
 * Folders shared read-only with other users ("Shared with me"). A grant names the owner's
 * folder by node id (it follows renames and moves, and sleeps while the folder is in the
 * trash) and is kept twice: in the recipient's row `<spread>:grants:<recipient>`, column
 * `<owner>/<node id>`, which is what lets the recipient in, and in the owner's row
 * `<spread>:granted:<owner>`, column `<recipient>/<node id>`, for the owner's list. A grant is
 * written owner's side first and removed recipient's side first, so no recipient ever holds
 * access that the owner cannot see and take back.
 */
import { PennError } from '../protocol/errors.js';
import { decodeRecord, encodeRecord } from './json-record.js';
import type { KvTable } from './kv-table.js';
import { rowKey } from './row-keys.js';
import type { ReadOnlyTree, Volume } from './storage-service.js';

/** Users one folder can be shared with, and grants one user can receive or make (one page each). */
export const GRANTS_PER_USER_MAX = 200;

/** A grant as the recipient sees it. */
export interface SharedFolder {
  owner: string;
  id: string;
  name: string;
  grantedMs: number;
}

/** A grant as the owner sees it. */
export interface FolderGrant {
  user: string;
  id: string;
  /** Where the folder is now in the owner's drive (null while in the trash). */
  path: string | null;
  grantedMs: number;
}

interface GrantRecord {
  grantedMs: number;
}

export class FolderGrants {
  constructor(
    private readonly kv: KvTable,
    private readonly drives: (owner: string) => Volume,
    private readonly userExists: (name: string) => Promise<boolean>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Shares `owner`'s folder at `path` read-only with `user`. */
  async grant(owner: string, path: unknown, user: unknown): Promise<FolderGrant> {
    if (typeof path !== 'string') throw new PennError('BAD_REQUEST', 'name the folder to share with "path"', { reason: 'BAD_PATH' });
    const recipient = typeof user === 'string' ? user.trim().toLowerCase().replace(/@.*$/, '') : '';
    if (recipient === '') throw new PennError('BAD_REQUEST', 'name the user to share with, as "user"', { reason: 'BAD_USERNAME' });
    if (recipient === owner) throw new PennError('BAD_REQUEST', 'that is you: your own drive is yours already', { reason: 'SHARE_WITH_SELF' });
    if (!await this.userExists(recipient)) throw new PennError('NOT_FOUND', `there is no user "${recipient.slice(0, 64)}"`, { reason: 'NO_SUCH_USER' });
    const node = await this.drives(owner).stat(path);
    if (node.type !== 'folder') throw new PennError('BAD_REQUEST', 'only folders are shared with users; share a file with a link', { reason: 'NOT_A_FOLDER' });
    if (node.path === '/') throw new PennError('BAD_REQUEST', 'the whole drive cannot be shared; share a folder in it', { reason: 'ROOT' });
    for (const row of [grantedRow(owner), grantsRow(recipient)]) {
      const listed = await this.kv.listColumns(row, { limit: GRANTS_PER_USER_MAX });
      if (listed.columns.length >= GRANTS_PER_USER_MAX) {
        throw new PennError('CONFLICT', `at most ${GRANTS_PER_USER_MAX} folders can be shared with or by one user`, { reason: 'TOO_MANY_GRANTS' });
      }
    }
    const record = encodeRecord({ grantedMs: this.now() } satisfies GrantRecord);
    await this.kv.put(grantedRow(owner), `${recipient}/${node.id}`, record);
    await this.kv.put(grantsRow(recipient), `${owner}/${node.id}`, record);
    return { user: recipient, id: node.id, path: node.path, grantedMs: this.now() };
  }

  /** Ends `user`'s access to `owner`'s folder `id`; NOT_FOUND when there was none. */
  async revoke(owner: string, user: string, id: string): Promise<void> {
    const existed = await this.kv.delete(grantsRow(user), `${owner}/${id}`);
    const listed = await this.kv.delete(grantedRow(owner), `${user}/${id}`);
    if (!existed && !listed) throw new PennError('NOT_FOUND', `"${user.slice(0, 64)}" has no access to that folder`, { reason: 'NO_SUCH_GRANT' });
  }

  /** The folders shared with `user` that still are (not gone, not in the owner's trash). */
  async sharedWith(user: string): Promise<SharedFolder[]> {
    const { columns } = await this.kv.listColumns(grantsRow(user), { limit: GRANTS_PER_USER_MAX });
    const out: SharedFolder[] = [];
    for (const { column } of columns) {
      const [owner, id] = column.split('/') as [string, string];
      const tree = await this.drives(owner).below(id).catch(() => null);
      const record = tree === null ? null : await this.record(grantsRow(user), column);
      if (tree !== null && record !== null) out.push({ owner, id, name: tree.base.name, grantedMs: record.grantedMs });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name) || a.owner.localeCompare(b.owner));
  }

  /** Whom `owner` has shared which folders with. */
  async grantedBy(owner: string): Promise<FolderGrant[]> {
    const { columns } = await this.kv.listColumns(grantedRow(owner), { limit: GRANTS_PER_USER_MAX });
    const drive = this.drives(owner);
    const out: FolderGrant[] = [];
    for (const { column } of columns) {
      const [user, id] = column.split('/') as [string, string];
      const record = await this.record(grantedRow(owner), column);
      if (record !== null) out.push({ user, id, path: await drive.pathOf(id), grantedMs: record.grantedMs });
    }
    return out;
  }

  /** `owner`'s folder `id` for `user` to read; NOT_FOUND without a grant (or once it is gone). */
  async open(user: string, owner: string, id: string): Promise<ReadOnlyTree> {
    const none = new PennError('NOT_FOUND', 'no such folder is shared with you', { reason: 'NO_SUCH_GRANT' });
    if (!/^[a-z][a-z0-9._-]*$/.test(owner) || (await this.kv.get(grantsRow(user), `${owner}/${id}`)) === null) throw none;
    return this.drives(owner).below(id).catch((err: unknown) => {
      throw err instanceof PennError && err.code === 'NOT_FOUND' ? none : err;
    });
  }

  private async record(row: string, column: string): Promise<GrantRecord | null> {
    const bytes = await this.kv.get(row, column);
    return bytes === null ? null : decodeRecord<GrantRecord>(bytes, 'folder grant', (v) => Number.isSafeInteger(v.grantedMs));
  }
}

function grantsRow(user: string): string {
  return rowKey('grants', user);
}

function grantedRow(owner: string): string {
  return rowKey('granted', owner);
}
