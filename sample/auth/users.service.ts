import { Injectable } from '@nestjs/common';
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  keylen: number,
) => Promise<Buffer>;

/** A user as the app shows it (never with the password hash). */
export interface User {
  username: string;
  displayName: string;
  roles: readonly 'admin'[];
}

interface StoredUser extends User {
  /** `salt:hash`, hex, from `scrypt(password, salt, 64)`. */
  passwordHash: string;
}

/**
 * The demo accounts: alice / wonderland (admin) and bob / builder. Only scrypt hashes are kept.
 */
const USERS: readonly StoredUser[] = [
  {
    username: 'alice',
    displayName: 'Alice Liddell',
    roles: ['admin'],
    passwordHash:
      '1345155ce2d60da23251a2e586a283ba:40b7d8d89dcda05a725d35cc42eb405a1232321b3095e43ba5a78120100b031f6970dee5ddd4b3ae3d06b0561c86673c3345a685bf7429e81c396b701c4dae46',
  },
  {
    username: 'bob',
    displayName: 'Bob the Builder',
    roles: [],
    passwordHash:
      '598089ce88d2b3ac9d598f4718cc87e7:e0106d4304d57080282cddbd71825b904887fee1c2de3a88eefc4e182af734d83b12efce96b02add294db45563605298fca7237cb1989d313564976ce7ea81ca',
  },
];

/** Checked for unknown usernames, so that they take as long as a wrong password. */
const DUMMY_HASH =
  '08c756391251ce9f38a7317e1160cd4d:71139a9b475f67b8668026fc5fc8f05d01c52b0d33083ce6dc12abef7acf2618624c7f77d39ede313f8f56323a9efb36e2d5a34411f46d8819b4c3797653958b';

function publicUser({ username, displayName, roles }: StoredUser): User {
  return { username, displayName, roles };
}

async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const [saltHex = '', hashHex = ''] = stored.split(':');
  const expected = Buffer.from(hashHex, 'hex');
  const actual = await scryptAsync(password, Buffer.from(saltHex, 'hex'), expected.length);
  return timingSafeEqual(actual, expected);
}

/** The user directory (in memory for the sample). */
@Injectable()
export class UsersService {
  /** This instance's accounts (a copy: password changes stay in this app). */
  private readonly users: StoredUser[] = USERS.map((u) => ({ ...u }));

  /** The user with these credentials, or `null`. */
  async verify(username: string, password: string): Promise<User | null> {
    const user = this.users.find((u) => u.username === username);
    const ok = await passwordMatches(password, user?.passwordHash ?? DUMMY_HASH);
    return ok && user ? publicUser(user) : null;
  }

  /** The user with this username, or `null`. */
  findByUsername(username: string): User | null {
    const user = this.users.find((u) => u.username === username);
    return user ? publicUser(user) : null;
  }

  /** Changes a password after checking the current one; `false` when it does not match. */
  async changePassword(username: string, current: string, next: string): Promise<boolean> {
    const user = this.users.find((u) => u.username === username);
    if (!user || !(await this.verify(username, current))) return false;
    const salt = randomBytes(16);
    const hash = await scryptAsync(next, salt, 64);
    user.passwordHash = `${salt.toString('hex')}:${hash.toString('hex')}`;
    return true;
  }
}
