/**
 * Session fixation (sample app: the id planted before sign-in is not the id after it) and secret
 * rotation (a cookie signed with an older secret is accepted and re-signed with the current one),
 * over real HTTP, on the MemoryStore and on a private Redis.
 */
import request from 'supertest';
import { cookiePair, sessionIdOf, setCookieFor } from './fixtures/cookies';
import { SecurityController } from '../support/security-controllers';
import {
  type AppHarness,
  STORE_KINDS,
  bootFixture,
  bootSample,
  randomSecret,
  signCookieValue,
  signedPair,
  wellFormedId,
} from '../support/security-harness';

describe.each(STORE_KINDS)('session fixation: sample app on %s', (kind) => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await bootSample(kind);
  });
  afterAll(async () => {
    await h?.close();
  });

  const login = (cookie: string) =>
    request(h.url)
      .post('/auth/login')
      .set('Cookie', cookie)
      .send({ username: 'alice', password: 'wonderland' });

  it('an id the attacker obtained and planted is replaced on sign-in and dies', async () => {
    const attacker = await request(h.url).get('/counter').expect(200);
    const planted = cookiePair(attacker, h.name);
    const plantedId = sessionIdOf(planted);
    expect(await h.stored(plantedId)).toBe(true);

    const res = await login(planted).expect(200);
    const after = cookiePair(res, h.name);
    expect(sessionIdOf(after)).not.toBe(plantedId);
    expect(await h.stored(plantedId)).toBe(false);
    // the victim is signed in on the new id; the attacker's copy gives nothing
    await request(h.url).get('/profile').set('Cookie', after).expect(200);
    await request(h.url).get('/profile').set('Cookie', planted).expect(401);
    const again = await request(h.url).get('/counter').set('Cookie', planted).expect(200);
    expect(again.body).toEqual({ visits: 1 });
    expect(sessionIdOf(cookiePair(again, h.name))).not.toBe(plantedId);
  });

  it.each(['signed with the app secret', 'wrongly signed', 'unsigned'])(
    'a never-issued id (%s) planted before sign-in is never adopted nor stored',
    async (how) => {
      const plantedId = wellFormedId();
      const cookie =
        how === 'unsigned'
          ? `${h.name}=${plantedId}`
          : signedPair(h.name, plantedId, how === 'wrongly signed' ? randomSecret() : h.secret);
      const res = await login(cookie).expect(200);
      expect(sessionIdOf(cookiePair(res, h.name))).not.toBe(plantedId);
      expect(await h.stored(plantedId)).toBe(false);
      await request(h.url).get('/profile').set('Cookie', cookie).expect(401);
      expect(await h.stored(plantedId)).toBe(false);
    },
  );
});

describe.each(STORE_KINDS)('secret rotation on %s', (kind) => {
  const current = randomSecret();
  const old = randomSecret();
  let h: AppHarness;
  beforeAll(async () => {
    h = await bootFixture(kind, [SecurityController], {
      secret: [current, old],
      cookie: { maxAge: 3_600_000 },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  /** A stored session (visits = 5) and its id. */
  async function plantSession(): Promise<string> {
    const id = wellFormedId();
    await h.plant(id, {
      cookie: {
        originalMaxAge: 3_600_000,
        expires: new Date(Date.now() + 3_600_000).toISOString(),
        httpOnly: true,
        path: '/',
      },
      visits: 5,
    });
    return id;
  }

  it('a cookie signed with the older secret is accepted and re-signed with the current one', async () => {
    const id = await plantSession();
    const oldCookie = signedPair(h.name, id, old);
    const res = await request(h.url).get('/count').set('Cookie', oldCookie).expect(200);
    expect(res.body).toEqual({ visits: 6 });
    const line = setCookieFor(res, h.name);
    expect(line).toBeDefined();
    const pair = cookiePair(res, h.name);
    expect(decodeURIComponent(pair.slice(pair.indexOf('=') + 1))).toBe(
      signCookieValue(id, current),
    );
    // the re-signed cookie works
    const next = await request(h.url).get('/count').set('Cookie', pair).expect(200);
    expect(next.body).toEqual({ visits: 7 });
  });

  it('a read-only request with an old-secret cookie is re-signed too', async () => {
    const id = await plantSession();
    const res = await request(h.url)
      .get('/peek')
      .set('Cookie', signedPair(h.name, id, old))
      .expect(200);
    expect(res.body.data).toEqual({ visits: 5 });
    const pair = cookiePair(res, h.name);
    expect(decodeURIComponent(pair.slice(pair.indexOf('=') + 1))).toBe(
      signCookieValue(id, current),
    );
  });

  it('a current-secret cookie is not re-sent needlessly', async () => {
    const id = await plantSession();
    const res = await request(h.url)
      .get('/peek')
      .set('Cookie', signedPair(h.name, id, current))
      .expect(200);
    expect(res.body.data).toEqual({ visits: 5 });
    expect(setCookieFor(res, h.name)).toBeUndefined();
  });

  it('a secret outside the list gives a fresh session', async () => {
    const id = await plantSession();
    const res = await request(h.url)
      .get('/count')
      .set('Cookie', signedPair(h.name, id, randomSecret()))
      .expect(200);
    expect(res.body).toEqual({ visits: 1 });
    expect(sessionIdOf(cookiePair(res, h.name))).not.toBe(id);
  });
});

describe.each(STORE_KINDS)('sign-out while a slow request is in flight: %s', (kind) => {
  /**
   * A request that started before the sign-out and ends after it must not hand the browser a
   * live cookie for the destroyed session, whether it changed the session (its save is refused)
   * or only read it with `rolling` (its touch is refused); the record stays gone.
   */
  it.each([
    ['changes the session', '/slow?ms=400', { cookie: { maxAge: 3_600_000 } }],
    ['only reads it (rolling: true)', '/slow-peek?ms=400', { rolling: true }],
  ])('a slow request that %s gets no session cookie back', async (_label, path, options) => {
    const h = await bootFixture(kind, [SecurityController], options);
    try {
      const first = await request(h.url).get('/count').expect(200);
      const pair = cookiePair(first, h.name);
      const id = sessionIdOf(pair);
      // The same route without a logout sends the cookie back: the check below is meaningful.
      const control = await request(h.url).get(path).set('Cookie', pair).expect(200);
      expect(setCookieFor(control, h.name)).toBeDefined();

      const slow = request(h.url)
        .get(path)
        .set('Cookie', pair)
        .then((res) => res);
      await new Promise((r) => setTimeout(r, 100));
      const out = await request(h.url).post('/logout').set('Cookie', pair).expect(200);
      expect(setCookieFor(out, h.name)).toMatch(/Expires=Thu, 01 Jan 1970/);
      const late = await slow;
      expect(late.status).toBe(200);
      expect(setCookieFor(late, h.name)).toBeUndefined();
      expect(await h.stored(id)).toBe(false);
    } finally {
      await h.close();
    }
  });
});
