/** Drive paths in the app: "/" is the root, "/a/b" a folder or file; names never hold "/". */

/** The names of a path: "/a/b" -> ["a", "b"]; "/" -> []. */
export function pathNames(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

/** A path from names: ["a", "b"] -> "/a/b". */
export function joinNames(names: readonly string[]): string {
  return '/' + names.join('/');
}

/** The path of `name` inside `folder`. */
export function childPath(folder: string, name: string): string {
  return joinNames([...pathNames(folder), name]);
}

/** The folder holding `path` ("/" for the root's entries). */
export function parentPath(path: string): string {
  return joinNames(pathNames(path).slice(0, -1));
}

/** The last name of a path ("" for the root). */
export function baseName(path: string): string {
  const names = pathNames(path);
  return names[names.length - 1] ?? '';
}

/** Each name percent-encoded, for a URL: "/a b/c" -> "/a%20b/c". */
export function encodePath(path: string): string {
  return '/' + pathNames(path).map(encodeURIComponent).join('/');
}

/** True when `inner` is `outer` or lies below it. */
export function isWithin(inner: string, outer: string): boolean {
  const a = pathNames(inner);
  const b = pathNames(outer);
  return b.length <= a.length && b.every((n, i) => a[i] === n);
}

/** Why a name typed by the user cannot be a file or folder name, or null when it can. */
export function nameProblem(name: string): string | null {
  if (name.trim() === '') return 'Enter a name.';
  if (name === '.' || name === '..') return 'That name is not allowed.';
  if (/[/\\]/.test(name)) return 'A name cannot contain “/” or “\\”.';
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'A name cannot contain control characters.';
  if (new TextEncoder().encode(name).length > 255) return 'That name is too long.';
  return null;
}
