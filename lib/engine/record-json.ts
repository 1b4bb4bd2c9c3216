import { fingerprint } from './fingerprint';
import type { SessionRecord } from './session-data';

/** On a record parsed by {@link parseStoredRecord}: its data's JSON, taken from the text. */
const DATA_JSON = Symbol('nest-session.dataJson');

const COOKIE_FIRST = '{"cookie":{';

/** Index of the `}` closing the object that opens at `start`, or -1 (strings skipped). */
function closingBrace(json: string, start: number): number {
  let depth = 0;
  for (let i = start; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x22) {
      // A string: skip to its closing quote (escapes skipped pairwise).
      for (i++; i < json.length; i++) {
        const d = json.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x7b) {
      depth++;
    } else if (c === 0x7d && --depth === 0) {
      return i;
    }
  }
  return -1;
}

/**
 * Index of the `}` closing the cookie a record's JSON starts with (as the engine's sessions
 * serialize), when the record goes on (`,`) or ends (`}`) right after it; else -1.
 */
function leadingCookieEnd(json: string): number {
  if (!json.startsWith(COOKIE_FIRST)) return -1;
  const end = closingBrace(json, COOKIE_FIRST.length - 1);
  if (end < 0) return -1;
  const next = json.charCodeAt(end + 1);
  return next === 0x2c || next === 0x7d ? end : -1;
}

/**
 * The session data's JSON without the cookie, cut out of a record's JSON that starts with its
 * cookie, or undefined when it does not.
 */
function dataJsonOf(json: string): string | undefined {
  const end = leadingCookieEnd(json);
  if (end < 0) return undefined;
  if (json.charCodeAt(end + 1) === 0x7d) return end + 2 === json.length ? '{}' : undefined;
  return '{' + json.slice(end + 2);
}

/**
 * A record's JSON with its cookie's JSON replaced by `cookieJson`, spliced into the text: for
 * JSON that `JSON.stringify` wrote, the same text as parsing it, assigning the cookie and
 * serializing it again (the other values keep their text, which is what serializing them again
 * would write), at the cost of one scan of the cookie. `undefined` when the text does not start
 * with its cookie.
 * @internal
 */
export function withCookieJson(json: string, cookieJson: string): string | undefined {
  const end = leadingCookieEnd(json);
  return end < 0 ? undefined : '{"cookie":' + cookieJson + json.slice(end + 1);
}

/**
 * Parses a record a store wrote with `JSON.stringify`, and remembers the JSON of its data (the
 * text after the cookie) so that the engine need not serialize the record again for its
 * change detection ({@link fingerprintOfRecord}): re-serializing JSON that `JSON.stringify`
 * wrote gives the same text, so the two are equal. Only for JSON a store wrote itself with
 * `JSON.stringify` (other text, spaced or reordered, would not be).
 * @internal
 */
export function parseStoredRecord(json: string): SessionRecord {
  const record = JSON.parse(json) as SessionRecord;
  if (typeof record === 'object' && record !== null) {
    const data = dataJsonOf(json);
    if (data !== undefined) Object.defineProperty(record, DATA_JSON, { value: data });
  }
  return record;
}

/**
 * The fingerprint of a record as the store returned it: the data JSON remembered by
 * {@link parseStoredRecord}, else computed (`fingerprint`).
 * @internal
 */
export function fingerprintOfRecord(record: SessionRecord): string {
  return (record as { [DATA_JSON]?: string })[DATA_JSON] ?? fingerprint(record);
}
