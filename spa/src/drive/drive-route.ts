/** The drive's addresses: /drive is the root, /drive/Photos/2024 a folder inside it. */
import { encodePath, joinNames } from '../api/drive-path';

/** The in-app address of a folder. */
export function driveHref(folder: string): string {
  const encoded = encodePath(folder);
  return encoded === '/' ? '/drive' : `/drive${encoded}`;
}

/** The folder an in-app address names ("/drive/a%20b" -> "/a b"); null for a bad address. */
export function folderOfHref(path: string): string | null {
  const rest = path.slice('/drive'.length);
  try {
    return joinNames(rest.split('/').filter((s) => s !== '').map(decodeURIComponent));
  } catch {
    return null;
  }
}
