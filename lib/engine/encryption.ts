import {
  type KeyObject,
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  hkdfSync,
  randomFillSync,
  timingSafeEqual,
} from 'node:crypto';

/**
 * An encryption key: exactly 32 bytes, given as a `Buffer`/`Uint8Array`, or as a string of 64
 * hexadecimal characters, or as base64 / base64url of 32 bytes (43 characters, or 44 with the
 * `=` padding). `openssl rand -hex 32` and `openssl rand -base64 32` both make one. Any other
 * string (a passphrase) is refused: a key must be random bytes.
 */
export type EncryptionKey = string | Buffer | Uint8Array;

/** The `encryption` option: encryption at rest of the session data (see the README). */
export interface EncryptionOptions {
  /**
   * The keys (see {@link EncryptionKey}). The first encrypts; all decrypt, so a new key is put
   * first while records written under the old ones stay readable (rotation).
   */
  keys: EncryptionKey[];
  /**
   * Read records stored in clear (written before encryption was turned on) as they are; each is
   * rewritten encrypted when its session next changes. Default `true` (migration). Set it to
   * `false` once those have changed or expired (after `cookie.maxAge`): a record in clear is
   * then discarded, so nobody who can write to the store can plant a session in clear.
   */
  acceptPlaintext?: boolean;
}

/** An invalid `encryption` option: `option` names it (`encryption.keys[1]`), `problem` says why. */
export class EncryptionOptionError extends TypeError {
  constructor(
    readonly option: string,
    readonly problem: string,
  ) {
    super(`${option} ${problem}`);
    this.name = 'EncryptionOptionError';
  }
}

const KEY_BYTES = 32;
const HEX_KEY = /^[0-9a-fA-F]{64}$/;
const BASE64_KEY = /^(?:[A-Za-z0-9+/]{43}=?|[A-Za-z0-9_-]{43}=?)$/;

/** The 32 bytes of a key option, or an {@link EncryptionOptionError} naming `option`. */
function keyBytes(value: unknown, option: string): Buffer {
  if (typeof value === 'string') {
    if (HEX_KEY.test(value)) return Buffer.from(value, 'hex');
    if (BASE64_KEY.test(value)) {
      const bytes = Buffer.from(
        value,
        value.includes('-') || value.includes('_') ? 'base64url' : 'base64',
      );
      if (bytes.length === KEY_BYTES) return bytes;
    }
    throw new EncryptionOptionError(
      option,
      `must be 32 bytes: 64 hex characters or base64 of 32 random bytes (got a string of ${value.length} characters)`,
    );
  }
  if (value instanceof Uint8Array) {
    if (value.byteLength !== KEY_BYTES) {
      throw new EncryptionOptionError(option, `must be 32 bytes (got ${value.byteLength})`);
    }
    // A copy: the caller may reuse or wipe its buffer.
    return Buffer.from(value);
  }
  throw new EncryptionOptionError(
    option,
    'must be 32 bytes: a Buffer, a Uint8Array, or a string of 64 hex characters or base64',
  );
}

/** One configured key, with the subkeys derived from it (HKDF-SHA256, one label per use). */
interface RecordKey {
  /** 8 hex characters naming the key in records (not secret: derived, one-way). */
  readonly id: string;
  /** Derives the per-record AES-256-GCM keys (a KeyObject: HMAC with it costs half). */
  readonly sealing: KeyObject;
  /** Keys the per-user index (HMAC of the user id). */
  readonly index: KeyObject;
}

function derive(key: Buffer, label: string, length: number): Buffer {
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `nest-session ${label}`, length));
}

function prepareKey(key: Buffer): RecordKey {
  return {
    id: derive(key, 'key id v1', 4).toString('hex'),
    sealing: createSecretKey(derive(key, 'record sealing v1', 32)),
    index: createSecretKey(derive(key, 'user index v1', 32)),
  };
}

/** Format version, first field of a sealed value. */
const VERSION = 'v1';
/** Random nonce per record: 12 bytes derive the record's key, 12 are its GCM nonce. */
const NONCE_BYTES = 24;
const TAG_BYTES = 16;
/** Additional data: this label, then the session id (a record moved to another id fails). */
const AAD_LABEL = 'nest-session record v1\0';
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Random bytes drawn in batches (one system call per 170 nonces, not one per nonce). */
const pool = Buffer.alloc(NONCE_BYTES * 170);
let poolOffset = pool.length;

/** A fresh random nonce (a copy: never handed out twice). */
function randomNonce(): Buffer {
  if (poolOffset + NONCE_BYTES > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const nonce = Buffer.from(pool.subarray(poolOffset, poolOffset + NONCE_BYTES));
  pool.fill(0, poolOffset, poolOffset + NONCE_BYTES);
  poolOffset += NONCE_BYTES;
  return nonce;
}

/** Why a sealed value could not be opened. */
export type OpenFailure = 'malformed' | 'unknown key' | 'authentication failed';

/**
 * Seals and opens session data (AES-256-GCM from `node:crypto`), with key rotation.
 *
 * A sealed value is `v1.<keyId>.<nonce>.<ciphertext+tag>` (base64url fields). The 24-byte random
 * nonce is split as in XAES-256-GCM: its first 12 bytes derive the record's own AES-256 key
 * (HMAC-SHA256 of them under the key's sealing subkey), its last 12 are the GCM nonce. So the
 * GCM nonce never repeats under one key in practice (192 random bits per record instead of 96:
 * no 2^32-writes limit per key). The additional data binds the session id.
 * @internal
 */
export class RecordCipher {
  private readonly keys: readonly RecordKey[];
  /** Whether records in clear are read as they are (migration). */
  readonly acceptPlaintext: boolean;

  constructor(options: EncryptionOptions) {
    this.keys = checkEncryptionOptions(options).map(prepareKey);
    this.acceptPlaintext = options.acceptPlaintext ?? true;
  }

  /** Encrypts `plaintext` (the session data as JSON) for session `sid`, under the first key. */
  seal(sid: string, plaintext: string): string {
    const key = this.keys[0] as RecordKey;
    const nonce = randomNonce();
    const cipher = createCipheriv('aes-256-gcm', recordKey(key, nonce), nonce.subarray(12));
    cipher.setAAD(Buffer.from(AAD_LABEL + sid));
    const body = Buffer.concat([
      cipher.update(plaintext, 'utf8'),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    return `${VERSION}.${key.id}.${nonce.toString('base64url')}.${body.toString('base64url')}`;
  }

  /** The plaintext of a sealed value for session `sid`, or why it cannot be opened. */
  open(sid: string, sealed: unknown): { plaintext: string } | { failure: OpenFailure } {
    if (typeof sealed !== 'string') return { failure: 'malformed' };
    const parts = sealed.split('.');
    if (parts.length !== 4 || parts[0] !== VERSION) return { failure: 'malformed' };
    const [, id, nonceText, bodyText] = parts as [string, string, string, string];
    if (!BASE64URL.test(nonceText) || !BASE64URL.test(bodyText)) return { failure: 'malformed' };
    const nonce = Buffer.from(nonceText, 'base64url');
    const body = Buffer.from(bodyText, 'base64url');
    if (nonce.length !== NONCE_BYTES || body.length < TAG_BYTES) return { failure: 'malformed' };
    let known = false;
    for (const key of this.keys) {
      if (key.id !== id) continue;
      known = true;
      const decipher = createDecipheriv('aes-256-gcm', recordKey(key, nonce), nonce.subarray(12));
      decipher.setAAD(Buffer.from(AAD_LABEL + sid));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      try {
        const text = Buffer.concat([
          decipher.update(body.subarray(0, body.length - TAG_BYTES)),
          decipher.final(),
        ]);
        return { plaintext: text.toString('utf8') };
      } catch {
        // Another configured key may share the id (a 32-bit name): try it.
      }
    }
    return { failure: known ? 'authentication failed' : 'unknown key' };
  }

  /**
   * The names the per-user index knows user `userId` by: an HMAC of it under each key (the first
   * is the one new entries use), so the store never holds user ids in clear.
   */
  userIndexIds(userId: string): string[] {
    return this.keys.map((key) =>
      createHmac('sha256', key.index).update(userId).digest().subarray(0, 16).toString('base64url'),
    );
  }
}

/** The record's own AES-256 key: HMAC-SHA256 of the nonce's first half under the sealing key. */
function recordKey(key: RecordKey, nonce: Buffer): Buffer {
  return createHmac('sha256', key.sealing).update(nonce.subarray(0, 12)).digest();
}

/**
 * Validates the `encryption` option and returns its keys' bytes (never logged, never in an
 * error message). Throws an {@link EncryptionOptionError} naming the faulty part.
 * @internal
 */
export function checkEncryptionOptions(options: unknown, option = 'encryption'): Buffer[] {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new EncryptionOptionError(option, 'must be an object: { keys: [key, ...] }');
  }
  const { keys, acceptPlaintext } = options as Partial<EncryptionOptions>;
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new EncryptionOptionError(
      `${option}.keys`,
      'must be a non-empty array of 32-byte keys (the first encrypts, all decrypt)',
    );
  }
  if (acceptPlaintext !== undefined && typeof acceptPlaintext !== 'boolean') {
    throw new EncryptionOptionError(`${option}.acceptPlaintext`, 'must be a boolean');
  }
  const bytes = keys.map((key, i) => keyBytes(key, `${option}.keys[${i}]`));
  bytes.forEach((key, i) => {
    for (let j = 0; j < i; j++) {
      if (timingSafeEqual(key, bytes[j] as Buffer)) {
        throw new EncryptionOptionError(`${option}.keys[${i}]`, `is the same key as keys[${j}]`);
      }
    }
  });
  return bytes;
}
