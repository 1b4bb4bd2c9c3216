import { randomBytes } from 'node:crypto';
import {
  EncryptionOptionError,
  RecordCipher,
  checkEncryptionOptions,
} from '../../../lib/engine/encryption';

const A = randomBytes(32);
const B = randomBytes(32);
const SID = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const DATA = JSON.stringify({ userId: 'alice', cart: ['book', 'pen'], visits: 3 });

function fields(sealed: string): string[] {
  return sealed.split('.');
}

describe('RecordCipher', () => {
  it('seals to v1.<keyId>.<nonce>.<ciphertext+tag> and opens it again', () => {
    const cipher = new RecordCipher({ keys: [A] });
    const sealed = cipher.seal(SID, DATA);
    const [version, id, nonce, body] = fields(sealed);
    expect(version).toBe('v1');
    expect(id).toMatch(/^[0-9a-f]{8}$/);
    expect(Buffer.from(nonce as string, 'base64url')).toHaveLength(24);
    expect(Buffer.from(body as string, 'base64url')).toHaveLength(Buffer.byteLength(DATA) + 16);
    expect(sealed).not.toContain('alice');
    expect(cipher.open(SID, sealed)).toEqual({ plaintext: DATA });
  });

  it('uses a fresh nonce for every write', () => {
    const cipher = new RecordCipher({ keys: [A] });
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) seen.add(cipher.seal(SID, DATA));
    expect(seen.size).toBe(100);
    expect(new Set([...seen].map((s) => fields(s)[2])).size).toBe(100);
  });

  it('binds the session id: a value moved to another id fails authentication', () => {
    const cipher = new RecordCipher({ keys: [A] });
    const sealed = cipher.seal(SID, DATA);
    expect(cipher.open('b'.repeat(32), sealed)).toEqual({ failure: 'authentication failed' });
  });

  it('refuses any changed byte of nonce, ciphertext or tag', () => {
    const cipher = new RecordCipher({ keys: [A] });
    const sealed = cipher.seal(SID, DATA);
    const [v, id, nonce, body] = fields(sealed) as [string, string, string, string];
    const flip = (text: string, at: number) => {
      const bytes = Buffer.from(text, 'base64url');
      bytes[at] = (bytes[at] as number) ^ 1;
      return bytes.toString('base64url');
    };
    const bodyBytes = Buffer.from(body, 'base64url').length;
    for (const changed of [
      [v, id, flip(nonce, 0), body],
      [v, id, flip(nonce, 23), body],
      [v, id, nonce, flip(body, 0)],
      [v, id, nonce, flip(body, bodyBytes - 1)], // the tag
    ]) {
      expect(cipher.open(SID, changed.join('.'))).toEqual({ failure: 'authentication failed' });
    }
  });

  it('tells a key it does not have, and malformed values', () => {
    const cipher = new RecordCipher({ keys: [A] });
    const other = new RecordCipher({ keys: [B] }).seal(SID, DATA);
    expect(cipher.open(SID, other)).toEqual({ failure: 'unknown key' });
    const [, id, nonce, body] = fields(cipher.seal(SID, DATA)) as string[];
    for (const bad of [
      undefined,
      42,
      '',
      'v1',
      `v2.${id}.${nonce}.${body}`,
      `v1.${id}.${nonce}`,
      `v1.${id}.${nonce}.${body}.x`,
      `v1.${id}.${nonce}.not base64!`,
      `v1.${id}.${Buffer.alloc(12).toString('base64url')}.${body}`,
      `v1.${id}.${nonce}.${Buffer.alloc(15).toString('base64url')}`,
    ]) {
      expect(cipher.open(SID, bad)).toEqual({ failure: 'malformed' });
    }
  });

  it('rotation: the first key seals, every key opens', () => {
    const old = new RecordCipher({ keys: [A] });
    const rotated = new RecordCipher({ keys: [B, A] });
    const written = old.seal(SID, DATA);
    expect(rotated.open(SID, written)).toEqual({ plaintext: DATA });
    const rewritten = rotated.seal(SID, DATA);
    expect(fields(rewritten)[1]).toBe(fields(new RecordCipher({ keys: [B] }).seal(SID, ''))[1]);
    expect(fields(rewritten)[1]).not.toBe(fields(written)[1]);
    expect(old.open(SID, rewritten)).toEqual({ failure: 'unknown key' });
  });

  it('accepts every key spelling for the same key', () => {
    const sealed = new RecordCipher({ keys: [A] }).seal(SID, DATA);
    const padded = Buffer.concat([Buffer.alloc(3), A]);
    const view = new Uint8Array(padded.buffer, padded.byteOffset + 3, 32);
    for (const key of [
      A.toString('hex'),
      A.toString('hex').toUpperCase(),
      A.toString('base64'),
      A.toString('base64').replace(/=$/, ''),
      A.toString('base64url'),
      view,
    ]) {
      expect(new RecordCipher({ keys: [key] }).open(SID, sealed)).toEqual({ plaintext: DATA });
    }
  });

  it('names users in the index by an HMAC per key, never in clear', () => {
    const cipher = new RecordCipher({ keys: [B, A] });
    const names = cipher.userIndexIds('alice');
    expect(names).toHaveLength(2);
    expect(names[0]).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(names[0]).not.toBe(names[1]);
    expect(cipher.userIndexIds('alice')).toEqual(names);
    expect(cipher.userIndexIds('bob')[0]).not.toBe(names[0]);
    expect(new RecordCipher({ keys: [A] }).userIndexIds('alice')).toEqual([names[1]]);
  });
});

describe('checkEncryptionOptions', () => {
  function problem(options: unknown): EncryptionOptionError {
    try {
      checkEncryptionOptions(options);
    } catch (err) {
      expect(err).toBeInstanceOf(EncryptionOptionError);
      return err as EncryptionOptionError;
    }
    throw new Error('accepted');
  }

  it('names the faulty option and never shows a key', () => {
    const secretish = 'correct horse battery staple, 32+';
    const cases: [unknown, string, RegExp][] = [
      [undefined, 'encryption', /must be an object/],
      [[A], 'encryption', /must be an object/],
      [{}, 'encryption.keys', /non-empty array/],
      [{ keys: [] }, 'encryption.keys', /non-empty array/],
      [{ keys: A }, 'encryption.keys', /non-empty array/],
      [{ keys: [A, randomBytes(16)] }, 'encryption.keys[1]', /must be 32 bytes \(got 16\)/],
      [{ keys: [secretish] }, 'encryption.keys[0]', /must be 32 bytes: 64 hex/],
      [{ keys: [A.toString('hex').slice(2)] }, 'encryption.keys[0]', /must be 32 bytes/],
      [{ keys: [randomBytes(33).toString('base64')] }, 'encryption.keys[0]', /must be 32 bytes/],
      [{ keys: [42] }, 'encryption.keys[0]', /must be 32 bytes: a Buffer/],
      [{ keys: [A, B, A] }, 'encryption.keys[2]', /same key as keys\[0\]/],
      [{ keys: [A], acceptPlaintext: 'no' }, 'encryption.acceptPlaintext', /boolean/],
    ];
    for (const [options, option, message] of cases) {
      const err = problem(options);
      expect(err.option).toBe(option);
      expect(err.message).toMatch(message);
      expect(err.message.startsWith(option)).toBe(true);
      expect(err.message).not.toContain(secretish);
      expect(err.message).not.toContain(A.toString('hex').slice(2));
    }
  });

  it('returns the key bytes (copies)', () => {
    const keys = checkEncryptionOptions({ keys: [A, B.toString('base64')] });
    expect(keys).toEqual([A, B]);
    expect(keys[0]).not.toBe(A);
  });
});
