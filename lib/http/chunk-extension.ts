/**
 * The grammar of chunk extensions (RFC 9112 §7.1.1), one byte at a time, for the chunked
 * decoder. Extensions are checked and dropped: no extension means anything to us, but a line
 * that two parsers could read differently must not pass.
 *
 *   chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
 *   chunk-ext-name = token
 *   chunk-ext-val  = token / quoted-string
 *
 * The decoder enters after the first ";" (the chunk size is followed directly by ";" or CRLF:
 * whitespace there is refused, as llhttp refuses it). BWS after ";" and around "=" is accepted,
 * because RFC 9110 §5.6.3 says a recipient MUST accept it, although llhttp refuses it.
 */
import { CR, HTAB, SEMICOLON, SP, TCHAR } from './char-classes.js';
import { badRequest } from './parse-error.js';

/** Where the extension grammar is; END once the CR ending the chunk-size line is read. */
export const enum ExtensionState {
  NAME_START,
  NAME,
  /** BWS after a name: "=" or ";" must follow. */
  AFTER_NAME,
  VALUE_START,
  TOKEN_VALUE,
  QUOTED_VALUE,
  QUOTED_PAIR,
  QUOTE_CLOSED,
  /** BWS after a value: ";" must follow. */
  AFTER_VALUE,
  END,
}

const EQUALS = 0x3d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

/** RFC 9110 §5.6.4: qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text. */
function isQdtext(b: number): boolean {
  return b === HTAB || b === SP || b === 0x21 || (b >= 0x23 && b <= 0x5b)
    || (b >= 0x5d && b <= 0x7e) || b >= 0x80;
}

/** RFC 9110 §5.6.4: quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ). */
function isQuotable(b: number): boolean {
  return b === HTAB || (b >= 0x20 && b <= 0x7e) || b >= 0x80;
}

function isBws(b: number): boolean {
  return b === SP || b === HTAB;
}

/**
 * The state after byte `b`; throws ParseError (400) where the grammar has no way on. A line
 * ends (CR) only right after a name or a value: BWS is allowed before ";" and "=", not at the end.
 */
export function nextExtensionState(state: ExtensionState, b: number): ExtensionState {
  switch (state) {
    case ExtensionState.NAME_START:
      if (isBws(b)) return state;
      if (TCHAR[b] === 1) return ExtensionState.NAME;
      break;
    case ExtensionState.NAME:
      if (TCHAR[b] === 1) return state;
      if (b === CR) return ExtensionState.END;
      if (b === EQUALS) return ExtensionState.VALUE_START;
      if (b === SEMICOLON) return ExtensionState.NAME_START;
      if (isBws(b)) return ExtensionState.AFTER_NAME;
      break;
    case ExtensionState.AFTER_NAME:
      if (isBws(b)) return state;
      if (b === EQUALS) return ExtensionState.VALUE_START;
      if (b === SEMICOLON) return ExtensionState.NAME_START;
      break;
    case ExtensionState.VALUE_START:
      if (isBws(b)) return state;
      if (b === DQUOTE) return ExtensionState.QUOTED_VALUE;
      if (TCHAR[b] === 1) return ExtensionState.TOKEN_VALUE;
      break;
    case ExtensionState.TOKEN_VALUE:
      if (TCHAR[b] === 1) return state;
      return afterValue(b);
    case ExtensionState.QUOTED_VALUE:
      if (b === DQUOTE) return ExtensionState.QUOTE_CLOSED;
      if (b === BACKSLASH) return ExtensionState.QUOTED_PAIR;
      if (isQdtext(b)) return state;
      break;
    case ExtensionState.QUOTED_PAIR:
      if (isQuotable(b)) return ExtensionState.QUOTED_VALUE;
      break;
    case ExtensionState.QUOTE_CLOSED:
      return afterValue(b);
    case ExtensionState.AFTER_VALUE:
      if (isBws(b)) return state;
      if (b === SEMICOLON) return ExtensionState.NAME_START;
      break;
    default:
      break;
  }
  throw badRequest('Invalid chunk extension');
}

/** Right after a value: the end of the line, another ";", or BWS before one. */
function afterValue(b: number): ExtensionState {
  if (b === CR) return ExtensionState.END;
  if (b === SEMICOLON) return ExtensionState.NAME_START;
  if (isBws(b)) return ExtensionState.AFTER_VALUE;
  throw badRequest('Invalid chunk extension');
}
