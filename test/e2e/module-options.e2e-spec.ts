import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import { SessionModule, type SessionModuleOptions, SessionOptionsError } from '../../lib';
import { testSecret } from './fixtures/secret';

/** Boots a module with these options and returns the boot error. */
async function bootError(options: unknown): Promise<SessionOptionsError> {
  const moduleRef = Test.createTestingModule({
    imports: [SessionModule.forRoot(options as SessionModuleOptions)],
  });
  const err = await moduleRef.compile().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SessionOptionsError);
  return err as SessionOptionsError;
}

const cases: [string, () => unknown, string, RegExp][] = [
  ['a missing secret', () => ({}), 'secret', /a secret is required/],
  ['an empty secret', () => ({ secret: '' }), 'secret', /a secret is required/],
  [
    'a secret shorter than 32 characters',
    () => ({ secret: 'x'.repeat(31) }),
    'secret',
    /at least 32 characters long \(got 31\)/,
  ],
  [
    'a short secret in a rotation list',
    () => ({ secret: [testSecret(), 'short'] }),
    'secret[1]',
    /at least 32 characters/,
  ],
  [
    "sameSite 'none' without secure",
    () => ({ secret: testSecret(), cookie: { sameSite: 'none' } }),
    'cookie.sameSite',
    /requires secure/,
  ],
  [
    'a __Host- cookie without secure',
    () => ({ secret: testSecret(), name: '__Host-sid' }),
    'cookie.secure',
    /__Host- cookie must be secure/,
  ],
  [
    'a store that is not a store',
    () => ({ secret: testSecret(), store: { get() {} } }),
    'store',
    /must be a session store \(it has no set\(\) method\)/,
  ],
  ['a store of the wrong type', () => ({ secret: testSecret(), store: 'redis' }), 'store', /get/],
  [
    'an invalid cookie name',
    () => ({ secret: testSecret(), name: 'my sid' }),
    'name',
    /valid cookie name/,
  ],
  [
    'a negative maxAge',
    () => ({ secret: testSecret(), cookie: { maxAge: -1 } }),
    'cookie.maxAge',
    /milliseconds/,
  ],
];

// Options are validated when the module is compiled, before any HTTP adapter exists: the same
// code and errors on Express and Fastify, so these run once (no application is created).
describe('invalid SessionModule options fail the boot, naming the option', () => {
  it.each(cases)('%s', async (_name, options, option, message) => {
    const err = await bootError(options());
    expect(err.option).toBe(option);
    expect(err.message).toContain(`"${option}"`);
    expect(err.message).toMatch(message);
  });

  it('with forRootAsync too, when the factory returns bad options', async () => {
    const moduleRef = Test.createTestingModule({
      imports: [
        SessionModule.forRootAsync({
          useFactory: async () => ({ secret: 'too-short' }),
        }),
      ],
    });
    await expect(moduleRef.compile()).rejects.toThrow(
      /nest-session: invalid option "secret": must be at least 32 characters/,
    );
  });

  it('accepts valid edge cases (a 32-character secret, __Host- with secure)', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        SessionModule.forRoot({
          secret: 'k'.repeat(32),
          name: '__Host-sid',
          cookie: { secure: true, sameSite: 'none' },
        }),
      ],
    }).compile();
    await moduleRef.close();
  });
});
