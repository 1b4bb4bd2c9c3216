import { KeyObject, createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';

/** Anything `crypto.createHmac` accepts as a key: string, Buffer, typed array, DataView or KeyObject. */
export type SecretKey = Parameters<typeof createHmac>[1];

/**
 * The secret as a `KeyObject`, made once: HMAC with a prepared key skips the per-call key setup
 * (about 40% of a signature's cost). Same bytes as `createHmac` uses (strings as UTF-8), so
 * signatures do not change. A value `createSecretKey` refuses is returned as it is (signing then
 * fails later, with the same error as before).
 */
export function prepareKey(secret: SecretKey): SecretKey {
  if (secret instanceof KeyObject) return secret;
  try {
    if (typeof secret === 'string') return createSecretKey(Buffer.from(secret, 'utf8'));
    if (ArrayBuffer.isView(secret)) {
      return createSecretKey(Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength));
    }
  } catch {
    // Left to createHmac to report.
  }
  return secret;
}

/** HMAC-SHA256 of `value` under `secret`, standard base64 without padding (cookie-signature 1.x format). */
function mac(value: string, secret: SecretKey): string {
  return createHmac('sha256', secret).update(value).digest('base64').replace(/=+$/, '');
}

/**
 * Signs a cookie value: `value + '.' + base64(HMAC-SHA256(secret, value))` without padding.
 * Same output and error messages as cookie-signature 1.0.
 */
export function signValue(value: string, secret: SecretKey): string {
  if (typeof value !== 'string') throw new TypeError('Cookie value must be provided as a string.');
  if (secret == null) throw new TypeError('Secret key must be provided.');
  return value + '.' + mac(value, secret);
}

/**
 * Verifies a value produced by {@link signValue}. The candidate is everything before the last `.`.
 * The comparison is timing-safe. Returns the unsigned value, or `false` when the signature does not match.
 */
export function unsignValue(signed: string, secret: SecretKey): string | false {
  if (typeof signed !== 'string') throw new TypeError('Signed cookie string must be provided.');
  if (secret == null) throw new TypeError('Secret key must be provided.');
  const dot = signed.lastIndexOf('.');
  if (dot < 0) return false;
  const candidate = signed.slice(0, dot);
  const given = Buffer.from(signed.slice(dot + 1));
  const expected = Buffer.from(mac(candidate, secret));
  return given.length === expected.length && timingSafeEqual(given, expected) ? candidate : false;
}

/**
 * Tries every secret in order; the first match wins (secret rotation). Returns the value and the
 * index of the secret that verified it, or `undefined`.
 */
export function unsignWithAny(
  signed: string,
  secrets: readonly SecretKey[],
): { value: string; secretIndex: number } | undefined {
  for (let i = 0; i < secrets.length; i++) {
    const value = unsignValue(signed, secrets[i] as SecretKey);
    if (value !== false) return { value, secretIndex: i };
  }
  return undefined;
}
