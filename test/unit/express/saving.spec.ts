process.env.NO_DEPRECATION = 'express-session';

import request = require('supertest');
import {
  cookie,
  createServer,
  createTestStore,
  dateHeader,
  expires,
  nextTick,
  opts,
  record,
  sessionCookie,
  sid,
  signedCookie,
} from '../../support/express-helpers';
import session = require('../../../lib/express');

type Store = ReturnType<typeof createTestStore>;

/** handler: /set modifies the session, anything else only reads it */
const handler = (req: any, res: any) => {
  if (req.url.startsWith('/set')) req.session.user = 'bob';
  if (req.url.startsWith('/nested')) req.session.prefs = { cookie: 'chocolate' };
  if (req.url.startsWith('/maxage')) req.session.cookie.maxAge = 99999;
  res.end('ok');
};

async function settle(): Promise<void> {
  await nextTick();
  await nextTick();
}

describe('new sessions', () => {
  let store: Store;
  beforeEach(() => {
    store = createTestStore();
  });

  it('saveUninitialized true: an untouched new session is saved and gets a cookie', async () => {
    const res = await request(createServer(opts({ store }), handler)).get('/');
    expect(sessionCookie(res)).toBeDefined();
    expect(store.calls.set).toBe(1);
    expect(store.read(sid(res)!)).toEqual(record());
  });

  it('saveUninitialized false: an untouched new session is neither saved nor sent', async () => {
    const res = await request(createServer(opts({ store, saveUninitialized: false }), handler)).get(
      '/',
    );
    expect(sessionCookie(res)).toBeUndefined();
    await settle();
    expect(store.calls.set).toBe(0);
    expect(store.calls.touch).toBe(0);
  });

  it('saveUninitialized false: a modified new session is saved and sent', async () => {
    const res = await request(createServer(opts({ store, saveUninitialized: false }), handler)).get(
      '/set',
    );
    expect(sessionCookie(res)).toBeDefined();
    expect(store.calls.set).toBe(1);
    expect(store.read(sid(res)!).user).toBe('bob');
  });

  it('saveUninitialized false + rolling: still no cookie for an untouched new session', async () => {
    const res = await request(
      createServer(opts({ store, saveUninitialized: false, rolling: true }), handler),
    ).get('/');
    expect(sessionCookie(res)).toBeUndefined();
    await settle();
    expect(store.calls.set).toBe(0);
  });

  it('saveUninitialized false: an explicit save is not repeated, and sends no cookie', async () => {
    const server = createServer(opts({ store, saveUninitialized: false }), (req, res) => {
      req.session.save((err: any) => res.end(err ? 'error' : 'saved'));
    });
    const res = await request(server).get('/').expect('saved');
    await settle();
    expect(store.calls.set).toBe(1);
    expect(sessionCookie(res)).toBeUndefined();
    expect(store.length()).toBe(1);
  });

  it('saveUninitialized false: explicit save then a change saves again and sends the cookie', async () => {
    const server = createServer(opts({ store, saveUninitialized: false }), (req, res) => {
      req.session.save(() => {
        req.session.after = true;
        res.end('ok');
      });
    });
    const res = await request(server).get('/');
    await settle();
    expect(store.calls.set).toBe(2);
    expect(sessionCookie(res)).toBeDefined();
    expect(store.read(sid(res)!).after).toBe(true);
  });

  it('an unknown cookie ID leads to a new session that is saved under a new ID', async () => {
    const res = await request(createServer(opts({ store }), handler))
      .get('/')
      .set('Cookie', signedCookie('stale'));
    expect(sid(res)).not.toBe('stale');
    expect(store.read(sid(res)!)).toBeDefined();
    expect(store.read('stale')).toBeUndefined();
  });

  it('a new session is never touched in the store', async () => {
    await request(createServer(opts({ store, saveUninitialized: false }), handler)).get('/');
    await request(createServer(opts({ store, saveUninitialized: true }), handler)).get('/');
    await settle();
    expect(store.calls.touch).toBe(0);
  });

  it('the session is saved before the response completes', async () => {
    store.delay = 50;
    const res = await request(createServer(opts({ store }), handler)).get('/set');
    expect(store.read(sid(res)!)).toEqual(record({ user: 'bob' }));
  });
});

describe('loaded sessions', () => {
  let store: Store;
  beforeEach(() => {
    store = createTestStore();
    store.write('s1', record({ user: 'alice' }));
  });
  const get = (o: any, path = '/') =>
    request(createServer(opts({ store, ...o }), handler))
      .get(path)
      .set('Cookie', signedCookie('s1'));

  it('resave false, unchanged: not saved but touched once, no cookie', async () => {
    const res = await get({ resave: false });
    await settle();
    expect(store.calls.set).toBe(0);
    expect(store.calls.touch).toBe(1);
    expect(sessionCookie(res)).toBeUndefined();
  });

  it('resave false, changed: saved and not touched', async () => {
    await get({ resave: false }, '/set');
    await settle();
    expect(store.calls.set).toBe(1);
    expect(store.calls.touch).toBe(0);
    expect(store.read('s1').user).toBe('bob');
  });

  it('resave true, unchanged: saved at the end', async () => {
    await get({ resave: true });
    await settle();
    expect(store.calls.set).toBe(1);
    expect(store.calls.touch).toBe(0);
  });

  it('resave true + saveUninitialized false, unchanged: still saved at the end', async () => {
    await get({ resave: true, saveUninitialized: false });
    await settle();
    expect(store.calls.set).toBe(1);
    expect(store.calls.touch).toBe(0);
  });

  it('resave false: each request touches the store again', async () => {
    store.write(
      's1',
      record({ user: 'alice' }, new session.Cookie({ maxAge: 60000 }).toJSON() as any),
    );
    await get({ resave: false });
    await get({ resave: false });
    await settle();
    expect(store.calls.touch).toBe(2);
    expect(store.calls.set).toBe(0);
  });

  it('regenerating an empty session (only the ID changes) still saves and sends the cookie', async () => {
    store.write('empty', record());
    const server = createServer(opts({ store, saveUninitialized: false }), (req, res) => {
      req.session.regenerate(() => res.end(req.sessionID));
    });
    const res = await request(server).get('/').set('Cookie', signedCookie('empty'));
    await settle();
    expect(res.text).not.toBe('empty');
    expect(sid(res)).toBe(res.text);
    expect(store.read(res.text)).toEqual(record());
    expect(store.read('empty')).toBeUndefined();
  });

  it('resave true, explicitly saved and unchanged afterwards: saved once', async () => {
    const server = createServer(opts({ store, resave: true }), (req, res) => {
      req.session.save(() => res.end('ok'));
    });
    await request(server).get('/').set('Cookie', signedCookie('s1'));
    await settle();
    expect(store.calls.set).toBe(1);
  });

  it('resave false, explicitly saved: not saved again at the end', async () => {
    const server = createServer(opts({ store, resave: false }), (req, res) => {
      req.session.user = 'carol';
      req.session.save(() => res.end('ok'));
    });
    await request(server).get('/').set('Cookie', signedCookie('s1'));
    await settle();
    expect(store.calls.set).toBe(1);
    expect(store.read('s1').user).toBe('carol');
  });

  it('a changed cookie (maxAge) alone does not count as a modification', async () => {
    await get({ resave: false }, '/maxage');
    await settle();
    expect(store.calls.set).toBe(0);
    expect(store.calls.touch).toBe(1);
  });

  it('a nested key named cookie in user data counts as a modification', async () => {
    await get({ resave: false }, '/nested');
    await settle();
    expect(store.calls.set).toBe(1);
    expect(store.read('s1').prefs).toEqual({ cookie: 'chocolate' });
  });

  it('deleting a key and adding it back changes the fingerprint (key order)', async () => {
    store.write('s1', record({ a: 1, b: 2 }));
    const server = createServer(opts({ store, resave: false }), (req, res) => {
      const a = req.session.a;
      delete req.session.a;
      req.session.a = a;
      res.end();
    });
    await request(server).get('/').set('Cookie', signedCookie('s1'));
    await settle();
    expect(store.calls.set).toBe(1);
  });

  it('a browser-session cookie is not re-sent even when the data changes', async () => {
    const res = await get({ resave: false }, '/set');
    expect(sessionCookie(res)).toBeUndefined();
  });

  it('a cookie with an expiry is re-sent when the data changes', async () => {
    store.write(
      's1',
      record({ user: 'alice' }, new session.Cookie({ maxAge: 60000 }).toJSON() as any),
    );
    const changed = await get({ resave: false }, '/set');
    expect(sid(changed)).toBe('s1');
    const unchanged = await get({ resave: false }, '/');
    expect(sessionCookie(unchanged)).toBeUndefined();
  });

  it('rolling re-sends the cookie on every response for a loaded session', async () => {
    const r1 = await get({ rolling: true });
    expect(sid(r1)).toBe('s1');
    const r2 = await get({ rolling: true, cookie: { maxAge: 60000 } });
    expect(sid(r2)).toBe('s1');
  });

  it('rolling refreshes Expires from originalMaxAge', async () => {
    const created = await request(
      createServer(opts({ store, cookie: { maxAge: 5000 } }), handler),
    ).get('/');
    const id = sid(created)!;
    // pretend time has passed: only 2 s are left on the stored session
    const left = new Date(Date.now() - 3000 + 5000);
    const rec = store.read(id);
    rec.cookie.expires = left.toISOString();
    store.write(id, rec);
    const rolled = await request(
      createServer(opts({ store, rolling: true, cookie: { maxAge: 5000 } }), handler),
    )
      .get('/')
      .set('Cookie', cookie(created));
    expect(sid(rolled)).toBe(id);
    expect(expires(rolled)! - dateHeader(rolled)).toBe(5000);
    expect(expires(rolled)! - left.getTime()).toBeGreaterThanOrEqual(2000);
  });

  it('rolling with a slow store: the cookie goes out with the first write', async () => {
    const rolledStore = createTestStore();
    rolledStore.write('r1', {
      cookie: { originalMaxAge: 5000, expires: new Date(Date.now() + 1000).toISOString() },
    });
    rolledStore.delay = 30;
    const server = createServer(opts({ store: rolledStore, rolling: true }), (_req, res) => {
      res.write('part1-');
      setTimeout(() => res.end('part2'), 20);
    });
    const res = await request(server)
      .get('/')
      .set('Cookie', signedCookie('r1'))
      .expect('part1-part2');
    expect(sid(res)).toBe('r1');
    expect(expires(res)! - dateHeader(res)).toBe(5000);
  });

  it('every request slides the stored expiry (through touch)', async () => {
    const exp = new Date(Date.now() + 1000);
    store.write('s1', { cookie: { originalMaxAge: 60000, expires: exp.toISOString() }, user: 'x' });
    await get({ resave: false });
    await settle();
    expect(store.calls.touch).toBe(1);
    const stored = store.read('s1');
    expect(Date.parse(stored.cookie.expires)).toBeGreaterThan(Date.now() + 50000);
    expect(stored.cookie.originalMaxAge).toBe(60000);
  });

  it('a store without touch is simply not touched', async () => {
    (store as any).touch = undefined;
    const server = createServer(opts({ store, resave: false }), handler);
    await request(server).get('/').set('Cookie', signedCookie('s1')).expect(200, 'ok');
    await settle();
    expect(store.calls.set).toBe(0);
  });

  it('touch support is detected when the factory runs; a replaced touch is used', async () => {
    const server = createServer(opts({ store, resave: false }), handler);
    let replaced = 0;
    store.touch = (_id: string, _s: any, cb: any) => {
      replaced++;
      setImmediate(cb);
    };
    await request(server).get('/').set('Cookie', signedCookie('s1'));
    await settle();
    expect(replaced).toBe(1);
  });

  it('a touch added after the factory ran is never called', async () => {
    const saved = store.touch;
    (store as any).touch = undefined;
    const server = createServer(opts({ store, resave: false }), handler);
    let added = 0;
    store.touch = function (this: any, ...args: any[]) {
      added++;
      return saved.apply(this, args as any);
    };
    await request(server).get('/').set('Cookie', signedCookie('s1'));
    await settle();
    expect(added).toBe(0);
  });

  it('a set error reaches next(err) after the response completes', async () => {
    store.failOn.set = new Error('set failed');
    const server = createServer(opts({ store, resave: false }), (req, res) => {
      req.session.user = 'x';
      res.end('body');
    });
    await request(server).get('/').set('Cookie', signedCookie('s1')).expect(200, 'body');
    await settle();
    expect(server.errors.map((e) => e.message)).toEqual(['set failed']);
  });

  it('a touch error reaches next(err) after the response completes', async () => {
    store.failOn.touch = new Error('touch failed');
    const server = createServer(opts({ store, resave: false }), (_req, res) => res.end('body'));
    await request(server).get('/').set('Cookie', signedCookie('s1')).expect(200, 'body');
    await settle();
    expect(server.errors.map((e) => e.message)).toEqual(['touch failed']);
  });
});

describe('defaults of resave and saveUninitialized', () => {
  it('resave left undefined behaves as true (unchanged loaded session is saved)', async () => {
    const store = createTestStore();
    store.write('s1', record({ v: 1 }));
    const server = createServer({ secret: 'keyboard cat', store, saveUninitialized: true });
    await request(server).get('/').set('Cookie', signedCookie('s1'));
    await settle();
    expect(store.calls.set).toBe(1);
    expect(store.calls.touch).toBe(0);
  });

  it('saveUninitialized left undefined behaves as true (empty new session is saved)', async () => {
    const store = createTestStore();
    const server = createServer({ secret: 'keyboard cat', store, resave: false });
    const res = await request(server).get('/');
    await settle();
    expect(sessionCookie(res)).toBeDefined();
    expect(store.calls.set).toBe(1);
  });
});

describe('IDs used for writing', () => {
  it('save writes under session.id while the cookie carries req.sessionID', async () => {
    const store = createTestStore();
    const server = createServer(opts({ store }), (req, res) => {
      const original = req.sessionID;
      req.sessionID = 'changed-by-user';
      res.end(original);
    });
    const res = await request(server).get('/');
    await settle();
    expect(sid(res)).toBe('changed-by-user');
    expect(store.read(res.text)).toBeDefined();
    expect(store.read('changed-by-user')).toBeUndefined();
  });

  it('store touch uses req.sessionID and passes req.session', async () => {
    const store = createTestStore();
    store.write('s1', record({ v: 1 }));
    const seen: any[] = [];
    const orig = store.touch;
    store.touch = function (this: any, id: string, s: any, cb: any) {
      seen.push([id, s]);
      return orig.call(this, id, s, cb);
    };
    let sess: any;
    const server = createServer(opts({ store }), (req, res) => {
      sess = req.session;
      res.end();
    });
    await request(server).get('/').set('Cookie', signedCookie('s1'));
    await settle();
    expect(seen).toHaveLength(1);
    expect(seen[0][0]).toBe('s1');
    expect(seen[0][1]).toBe(sess);
  });
});

describe('session methods over HTTP', () => {
  let store: Store;
  beforeEach(() => {
    store = createTestStore();
    store.write('s1', record({ user: 'alice' }));
  });

  it('regenerate gives a new ID, drops the data, destroys the old record and sends a cookie', async () => {
    let before: any;
    const server = createServer(opts({ store, saveUninitialized: false }), (req, res) => {
      before = req.session.user;
      req.session.regenerate((err: any) => {
        res.end(String(err) + ':' + String(req.session.user) + ':' + req.sessionID);
      });
    });
    const res = await request(server).get('/').set('Cookie', signedCookie('s1'));
    const [err, user, newId] = res.text.split(':');
    expect(before).toBe('alice');
    expect(err === 'null' || err === 'undefined').toBe(true);
    expect(user).toBe('undefined');
    expect(newId).not.toBe('s1');
    expect(sid(res)).toBe(newId);
    await settle();
    expect(store.read('s1')).toBeUndefined();
    expect(store.read(newId!)).toBeDefined();
  });

  it('regenerate passes a destroy error on but still creates a new session', async () => {
    store.failOn.destroy = new Error('cannot destroy');
    const server = createServer(opts({ store }), (req, res) => {
      req.session.regenerate((err: any) => res.end(err.message + ':' + req.sessionID));
    });
    const res = await request(server).get('/').set('Cookie', signedCookie('s1'));
    expect(res.text).toMatch(/^cannot destroy:/);
    expect(res.text).not.toBe('cannot destroy:s1');
  });

  it('destroy removes the session, sends no cookie and does not save', async () => {
    const server = createServer(opts({ store }), (req, res) => {
      req.session.destroy((err: any) => res.end(String(err ?? 'ok') + ':' + String(req.session)));
    });
    const res = await request(server).get('/').set('Cookie', signedCookie('s1'));
    expect(res.text).toBe('ok:undefined');
    expect(sessionCookie(res)).toBeUndefined();
    await settle();
    expect(store.length()).toBe(0);
    expect(store.calls.set).toBe(0);
  });

  it('reload picks up data written by someone else', async () => {
    const server = createServer(opts({ store }), (req, res) => {
      store.write('s1', record({ user: 'zed' }));
      const before = req.session.user;
      req.session.reload((err: any) =>
        res.end(String(err ?? '') + before + '>' + req.session.user),
      );
    });
    await request(server).get('/').set('Cookie', signedCookie('s1')).expect('alice>zed');
  });

  it("reload fails with 'failed to load session' when the record vanished", async () => {
    const server = createServer(opts({ store }), (req, res) => {
      store.data.delete('s1');
      req.session.reload((err: any) => res.end(err ? err.message : 'no error'));
    });
    await request(server)
      .get('/')
      .set('Cookie', signedCookie('s1'))
      .expect('failed to load session');
  });

  it('repeated failing reloads keep working (no stacked wrappers)', async () => {
    const server = createServer(opts({ store }), (req, res) => {
      store.failOn.get = new Error('reload failed');
      let n = 0;
      const again = () =>
        req.session.reload((err: any) => {
          if (err && ++n < 20) return again();
          store.failOn.get = undefined;
          res.end(String(n) + ':' + (err && err.message));
        });
      again();
    });
    await request(server).get('/').set('Cookie', signedCookie('s1')).expect('20:reload failed');
  });

  it('a reloaded session is saved at the end when it changes', async () => {
    const server = createServer(opts({ store, resave: false }), (req, res) => {
      req.session.reload(() => {
        req.session.user = 'after-reload';
        res.end();
      });
    });
    await request(server).get('/').set('Cookie', signedCookie('s1'));
    await settle();
    expect(store.read('s1').user).toBe('after-reload');
  });

  it('touch() in a handler resets the expiry', async () => {
    const exp = new Date(Date.now() + 1000);
    store.write('s1', { cookie: { originalMaxAge: 60000, expires: exp.toISOString() } });
    let maxAge = 0;
    const server = createServer(opts({ store }), (req, res) => {
      req.session.touch();
      maxAge = req.session.cookie.maxAge;
      res.end();
    });
    await request(server).get('/').set('Cookie', signedCookie('s1'));
    expect(maxAge).toBeGreaterThan(59000);
  });

  it('resetMaxAge() in a handler resets the expiry', async () => {
    let maxAge = 0;
    const server = createServer(opts({ store, cookie: { maxAge: 60000 } }), (req, res) => {
      req.session.cookie.expires = new Date(Date.now() + 10);
      req.session.cookie.originalMaxAge = 60000;
      req.session.resetMaxAge();
      maxAge = req.session.cookie.maxAge;
      res.end();
    });
    await request(server).get('/');
    expect(maxAge).toBeGreaterThan(59000);
  });

  it('with callbacks, save/reload/destroy/regenerate return the session', async () => {
    const results: boolean[] = [];
    const server = createServer(opts({ store }), (req, res) => {
      const s = req.session;
      results.push(s.save(() => {}) === s);
      results.push(s.touch() === s);
      results.push(s.resetMaxAge() === s);
      results.push(
        s.reload(() => {
          const s2 = req.session;
          results.push(
            s2.regenerate(() => {
              const s3 = req.session;
              results.push(s3.destroy(() => res.end()) === s3);
            }) === s2,
          );
        }) === s,
      );
    });
    await request(server).get('/').set('Cookie', signedCookie('s1'));
    expect(results).toEqual([true, true, true, true, true, true]);
  });

  it('after regenerate, the regenerated session is saved under its new ID', async () => {
    const server = createServer(opts({ store }), (req, res) => {
      req.session.regenerate(() => {
        req.session.user = 'new-user';
        res.end(req.sessionID);
      });
    });
    const res = await request(server).get('/').set('Cookie', signedCookie('s1'));
    await settle();
    expect(store.read(res.text).user).toBe('new-user');
  });
});
