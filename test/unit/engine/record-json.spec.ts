/**
 * `parseStoredRecord` remembers the data JSON of a record written with `JSON.stringify`, and
 * `fingerprintOfRecord` must then give exactly what `fingerprint` computes on the parsed record:
 * the engine compares it with the session's fingerprint at the end of the request.
 */
import { fingerprint } from '../../../lib/engine/fingerprint';
import {
  fingerprintOfRecord,
  parseStoredRecord,
  withCookieJson,
} from '../../../lib/engine/record-json';
import { Cookie } from '../../../lib/engine/cookie';
import type { SessionRecord } from '../../../lib/engine/session-data';

const cookie = (options: ConstructorParameters<typeof Cookie>[0] = {}) => {
  const c = new Cookie({ maxAge: 60_000, ...options });
  return c;
};

const records: [string, Record<string, unknown>][] = [
  ['empty data', { cookie: cookie() }],
  ['flat data', { cookie: cookie(), user: 'alice', n: 3, ok: true, none: null }],
  ['nested data and a nested cookie key', { cookie: cookie(), a: { cookie: { x: 1 } }, b: [1, 2] }],
  [
    'braces and quotes in cookie strings',
    { cookie: cookie({ path: '/a}"{b\\', domain: 'x}.y' }), k: 'v' },
  ],
  ['strings with braces, quotes and escapes', { cookie: cookie(), s: '}{"\\\u2028\ud800', t: 'é' }],
  [
    'numbers that print differently',
    { cookie: cookie(), big: 1e21, small: 5e-7, neg: -0, f: 0.1 + 0.2 },
  ],
  ['a __proto__ key', JSON.parse('{"cookie":{"path":"/"},"__proto__":{"admin":true},"z":1}')],
  [
    'dates and toJSON values',
    { cookie: cookie(), at: new Date(0), when: { toJSON: () => 'later' } },
  ],
];

describe('parseStoredRecord / fingerprintOfRecord', () => {
  it.each(records)('equals the fingerprint of the parsed record: %s', (_name, record) => {
    const json = JSON.stringify(record);
    const parsed = parseStoredRecord(json);
    expect(fingerprintOfRecord(parsed)).toBe(fingerprint(JSON.parse(json) as object));
    // Taken from the text (all these records start with their cookie), and not data: not
    // enumerable, not serialized.
    expect(Object.getOwnPropertySymbols(parsed)).toHaveLength(1);
    expect(JSON.parse(JSON.stringify(parsed))).toEqual(JSON.parse(json));
    expect(Object.keys(parsed)).toEqual(Object.keys(JSON.parse(json) as object));
  });

  it('falls back to computing it when the cookie is not first or the text is not compact', () => {
    const texts = [
      '{"0":"first","cookie":{"path":"/"},"a":1}',
      '{"a":1,"cookie":{"path":"/"}}',
      '{ "cookie": {"path":"/"}, "a": 1 }',
      '{"cookie":{"path":"/"}}',
      '{"cookie":{"path":"/"},"a":{"b":[1,{"c":"}"}]}}',
    ];
    for (const text of texts) {
      const parsed = parseStoredRecord(text);
      expect(fingerprintOfRecord(parsed)).toBe(fingerprint(JSON.parse(text) as object));
    }
  });

  it('leaves values that are not objects as they are', () => {
    expect(parseStoredRecord('null')).toBeNull();
    expect(parseStoredRecord('"x"')).toBe('x');
    expect(() => parseStoredRecord('{"cookie":{')).toThrow(SyntaxError);
  });

  it('computes the fingerprint of a record no store parsed', () => {
    const record = { cookie: { path: '/' }, a: 1 } as unknown as SessionRecord;
    expect(fingerprintOfRecord(record)).toBe('{"a":1}');
  });
});

describe('withCookieJson', () => {
  /** What MemoryStore#touch wrote before: parse, assign the cookie, serialize. */
  const reserialized = (json: string, next: unknown) => {
    const stored = JSON.parse(json) as Record<string, unknown>;
    stored.cookie = next;
    return JSON.stringify(stored);
  };
  const nextCookies: [string, unknown][] = [
    ['a later cookie', cookie({ maxAge: 120_000, path: '/x}"', sameSite: 'lax' })],
    ['a plain object', { path: '/' }],
    ['null', null],
  ];

  describe.each(records)('%s', (_name, record) => {
    it.each(nextCookies)('gives the re-serialized text for %s', (_c, next) => {
      const json = JSON.stringify(record);
      expect(withCookieJson(json, JSON.stringify(next))).toBe(reserialized(json, next));
    });
  });

  it('declines text that does not start with its compact cookie', () => {
    const texts = [
      '{"0":"first","cookie":{"path":"/"},"a":1}',
      '{"a":1,"cookie":{"path":"/"}}',
      '{ "cookie": {"path":"/"}, "a": 1 }',
      '{"cookie":{"path":"/"} ,"a":1}',
      '{"cookie":{"path":"/"',
    ];
    for (const text of texts) expect(withCookieJson(text, '{}')).toBeUndefined();
  });
});
