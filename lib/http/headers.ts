/**
 * The header fields of one request, kept as sent: a flat [name, value, name, value, ...] list
 * in arrival order. Lookups compare names case-insensitively (RFC 9110 §5.1); a request has few
 * fields, so a scan beats building a map nobody may read.
 */
import type { HttpHeaders } from './types.js';

export class RequestHeaders implements HttpHeaders {
  /** @param fields name, value, name, value, ... (names as sent, values trimmed of OWS). */
  constructor(private readonly fields: string[]) {}

  get(name: string): string | undefined {
    const fields = this.fields;
    const lower = name.toLowerCase();
    let found: string | undefined;
    for (let i = 0; i < fields.length; i += 2) {
      if (sameName(fields[i]!, lower)) {
        // RFC 9110 §5.3: repeated field lines combine into one comma-separated value.
        found = found === undefined ? fields[i + 1]! : `${found}, ${fields[i + 1]!}`;
      }
    }
    return found;
  }

  getAll(name: string): string[] {
    const fields = this.fields;
    const lower = name.toLowerCase();
    const out: string[] = [];
    for (let i = 0; i < fields.length; i += 2) {
      if (sameName(fields[i]!, lower)) out.push(fields[i + 1]!);
    }
    return out;
  }

  has(name: string): boolean {
    const fields = this.fields;
    const lower = name.toLowerCase();
    for (let i = 0; i < fields.length; i += 2) {
      if (sameName(fields[i]!, lower)) return true;
    }
    return false;
  }

  entries(): Array<[string, string]> {
    const fields = this.fields;
    const out: Array<[string, string]> = [];
    for (let i = 0; i < fields.length; i += 2) out.push([fields[i]!, fields[i + 1]!]);
    return out;
  }

  /** Number of field lines. */
  get size(): number {
    return this.fields.length / 2;
  }
}

/** True when `name` equals the lower-case `lower`, ignoring ASCII case. */
function sameName(name: string, lower: string): boolean {
  return name.length === lower.length && (name === lower || name.toLowerCase() === lower);
}
