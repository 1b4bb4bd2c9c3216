/**
 * The CSRF token primitives (lib/engine/csrf-token.ts), without HTTP: masking (two tokens of one
 * secret differ, both verify), binding to the secret and the session id, and hostile tokens
 * (tampered, truncated, foreign, garbage, not a string) answered false, never thrown.
 */
import {
  CSRF_SECRET_KEY,
  CSRF_TOKEN_LENGTH,
  createCsrfSecret,
  createCsrfToken,
  isCsrfSecret,
  verifyCsrfToken,
} from '../../../lib/engine/csrf-token';

const ID = 'a'.repeat(32);

describe('CSRF tokens', () => {
  it("the secret is 32 random bytes, base64url, and lives under csurf's key", () => {
    const secret = createCsrfSecret();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(createCsrfSecret()).not.toBe(secret);
    expect(CSRF_SECRET_KEY).toBe('csrfSecret');
    expect(isCsrfSecret(secret)).toBe(true);
    expect(isCsrfSecret('short')).toBe(false);
    expect(isCsrfSecret(42)).toBe(false);
    expect(isCsrfSecret(undefined)).toBe(false);
  });

  it('masks each token with a fresh salt: two tokens differ and both verify', () => {
    const secret = createCsrfSecret();
    const one = createCsrfToken(secret, ID);
    const two = createCsrfToken(secret, ID);
    expect(one).not.toBe(two);
    expect(one).toHaveLength(CSRF_TOKEN_LENGTH);
    expect(CSRF_TOKEN_LENGTH).toBe(64);
    expect(verifyCsrfToken(secret, ID, one)).toBe(true);
    expect(verifyCsrfToken(secret, ID, two)).toBe(true);
    // 100 tokens, 100 different strings: no byte pattern repeats from page to page (BREACH).
    const many = new Set(Array.from({ length: 100 }, () => createCsrfToken(secret, ID)));
    expect(many.size).toBe(100);
  });

  it('never puts the secret into a token', () => {
    const secret = createCsrfSecret();
    const token = createCsrfToken(secret, ID);
    const bytes = Buffer.from(token, 'base64url');
    expect(bytes.includes(Buffer.from(secret, 'base64url'))).toBe(false);
    expect(token).not.toContain(secret.slice(0, 8));
  });

  it('a token verifies only for its secret and its session id', () => {
    const secret = createCsrfSecret();
    const token = createCsrfToken(secret, ID);
    expect(verifyCsrfToken(createCsrfSecret(), ID, token)).toBe(false); // another session's secret
    expect(verifyCsrfToken(secret, 'b'.repeat(32), token)).toBe(false); // regenerated: a new id
  });

  it('refuses tampered, truncated, padded, garbage and non-string tokens without throwing', () => {
    const secret = createCsrfSecret();
    const token = createCsrfToken(secret, ID);
    const flip = (i: number) =>
      token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
    const hostile: unknown[] = [
      flip(0), // the salt
      flip(40), // the MAC
      flip(63),
      token.slice(0, 63),
      `${token}A`,
      `${token}=`,
      `+${token.slice(1)}`, // base64, not base64url
      '',
      'x'.repeat(43),
      '💥'.repeat(32),
      '\u0000'.repeat(64),
      'x'.repeat(100_000),
      `${token}, ${token}`, // a header sent twice (Node joins the values)
      [token],
      { token },
      42,
      null,
      undefined,
      Buffer.from(token),
    ];
    for (const value of hostile) expect(verifyCsrfToken(secret, ID, value)).toBe(false);
  });

  it('verifies with a csurf-era secret (18 bytes) kept in a migrated session', () => {
    const legacy = 'Ab3dEf6hIj9lMn2pQr5t_w'; // 22+ characters, csurf's alphabet
    expect(isCsrfSecret(legacy)).toBe(true);
    expect(verifyCsrfToken(legacy, ID, createCsrfToken(legacy, ID))).toBe(true);
  });
});
