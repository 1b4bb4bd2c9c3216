/** The arguments of the read-and-touch script, and their reuse within one millisecond. */
import { readRefreshArgs } from '../../../lib/stores/redis/read-refresh';

describe('readRefreshArgs', () => {
  const now = Date.UTC(2026, 11, 2, 12, 0, 0, 5);

  it('states the new expiry, now and the margin for a cookie with a lifetime', () => {
    const args = readRefreshArgs({ maxAge: 60_000, margin: 1_000 }, now, 86_400);
    expect(args).toEqual([
      '{"cookie":{"originalMaxAge":60000,"expires":',
      'date',
      new Date(now + 60_000).toISOString(),
      new Date(now).toISOString(),
      new Date(now + 59_000).toISOString(),
      60_000,
    ]);
  });

  it('gives the store ttl for a browser-session cookie', () => {
    expect(readRefreshArgs({ maxAge: null, margin: 500 }, now, 3_600)).toEqual([
      '{"cookie":{"originalMaxAge":null,"expires":',
      'none',
      3_600_000,
      500,
    ]);
  });

  it('reuses the answer within the same millisecond, and only for the same refresh', () => {
    const refresh = { maxAge: 60_000, margin: 1_000 };
    const first = readRefreshArgs(refresh, now, 86_400);
    expect(readRefreshArgs({ ...refresh }, now, 86_400)).toBe(first);
    const later = readRefreshArgs(refresh, now + 1, 86_400);
    expect(later).not.toBe(first);
    expect(later[2]).toBe(new Date(now + 60_001).toISOString());
    expect(readRefreshArgs({ maxAge: 60_000, margin: 2_000 }, now + 1, 86_400)[4]).toBe(
      new Date(now + 59_001 - 1_000).toISOString(),
    );
    expect(readRefreshArgs({ maxAge: 30_000, margin: 2_000 }, now + 1, 86_400)[5]).toBe(30_000);
  });
});
