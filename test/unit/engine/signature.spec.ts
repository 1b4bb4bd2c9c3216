import { createHmac, createSecretKey, KeyObject } from 'node:crypto';
import { prepareKey, signValue, unsignValue } from '../../../lib/engine/signature';

/** cookie-signature's format, computed independently. */
function expected(value: string, secret: string | Buffer): string {
  return (
    value + '.' + createHmac('sha256', secret).update(value).digest('base64').replace(/=+$/, '')
  );
}

describe('prepareKey', () => {
  const value = 'aV3kL9pQ2xR7mN4bT8wY1zC6dF0gH5jK';

  it('turns string and byte secrets into KeyObjects that sign exactly as before', () => {
    const text = 'a secret with ünïcödé, long enough for the module';
    const bytes = Buffer.from('0123456789abcdef0123456789abcdef');
    const inside = Buffer.concat([Buffer.from('xx'), bytes, Buffer.from('yy')]);
    const view = new Uint8Array(inside.buffer, inside.byteOffset + 2, bytes.length);
    for (const [secret, raw] of [
      [text, text],
      [bytes, bytes],
      [view, bytes],
    ] as const) {
      const key = prepareKey(secret);
      expect(key).toBeInstanceOf(KeyObject);
      expect(signValue(value, key)).toBe(expected(value, raw));
      expect(unsignValue(expected(value, raw), key)).toBe(value);
    }
  });

  it('keeps a KeyObject, and leaves what it cannot convert for createHmac to refuse', () => {
    const key = createSecretKey(Buffer.from('k'.repeat(32)));
    expect(prepareKey(key)).toBe(key);
    const odd = 42 as never;
    expect(prepareKey(odd)).toBe(42);
    expect(() => signValue(value, prepareKey(odd))).toThrow();
  });
});
