process.env.NO_DEPRECATION = 'express-session';

import cookieParser = require('cookie-parser');
import express = require('express');
import request = require('supertest');
import {
  attributes,
  cookie,
  createTestStore,
  nextTick,
  opts,
  sessionCookie,
  setCookies,
  sid,
  signedCookie,
} from '../../support/express-helpers';
import session = require('../../../lib/express');

function errorHandler(errors: any[]) {
  return (err: any, _req: any, res: any, _next: any) => {
    errors.push(err);
    if (res.headersSent) return;
    res
      .status(500)
      .type('text')
      .send('error: ' + err.message);
  };
}

describe('Express 5 apps', () => {
  it('keeps a session across requests', async () => {
    const app = express();
    app.use(session(opts()) as any);
    app.get('/', (req: any, res) => {
      req.session.views = (req.session.views || 0) + 1;
      res.send('views=' + req.session.views);
    });
    const agent = request.agent(app);
    await agent.get('/').expect('views=1');
    await agent.get('/').expect('views=2');
    await agent.get('/').expect('views=3');
  });

  it('works with res.json, res.redirect and res.sendStatus', async () => {
    const app = express();
    app.use(session(opts({ saveUninitialized: false })) as any);
    app.get('/json', (req: any, res) => {
      req.session.kind = 'json';
      res.json({ id: req.sessionID });
    });
    app.get('/redirect', (req: any, res) => {
      req.session.kind = 'redirect';
      res.redirect('/json');
    });
    app.get('/status', (req: any, res) => {
      req.session.kind = 'status';
      res.sendStatus(204);
    });
    const r1 = await request(app).get('/json').expect(200);
    expect(sid(r1)).toBe(r1.body.id);
    const r2 = await request(app).get('/redirect').expect(302);
    expect(sessionCookie(r2)).toBeDefined();
    const r3 = await request(app).get('/status').expect(204);
    expect(sessionCookie(r3)).toBeDefined();
  });

  it('uses req.secure from trust proxy when proxy is undefined', async () => {
    const app = express();
    app.set('trust proxy', true);
    app.use(session(opts({ cookie: { secure: true } })) as any);
    app.get('/', (_req, res) => res.send('ok'));
    const https = await request(app).get('/').set('X-Forwarded-Proto', 'https');
    expect(attributes(https)).toContain('Secure');
    const http = await request(app).get('/').set('X-Forwarded-Proto', 'http');
    expect(sessionCookie(http)).toBeUndefined();
  });

  it('without trust proxy, X-Forwarded-Proto is ignored (proxy undefined)', async () => {
    const app = express();
    app.use(session(opts({ cookie: { secure: true } })) as any);
    app.get('/', (_req, res) => res.send('ok'));
    const res = await request(app).get('/').set('X-Forwarded-Proto', 'https');
    expect(sessionCookie(res)).toBeUndefined();
  });

  it('proxy: false ignores req.secure even with trust proxy', async () => {
    const app = express();
    app.set('trust proxy', true);
    app.use(session(opts({ proxy: false, cookie: { secure: true } })) as any);
    app.get('/', (_req, res) => res.send('ok'));
    const res = await request(app).get('/').set('X-Forwarded-Proto', 'https');
    expect(sessionCookie(res)).toBeUndefined();
  });

  it('proxy: true trusts X-Forwarded-Proto without trust proxy', async () => {
    const app = express();
    app.use(session(opts({ proxy: true, cookie: { secure: 'auto', sameSite: 'auto' } })) as any);
    app.get('/', (_req, res) => res.send('ok'));
    const res = await request(app).get('/').set('X-Forwarded-Proto', 'https');
    expect(attributes(res)).toEqual(['Path=/', 'HttpOnly', 'Secure', 'SameSite=None']);
  });

  it('a mounted router is scoped through req.originalUrl', async () => {
    const app = express();
    const router = express.Router();
    router.use(session(opts({ cookie: { path: '/api' } })) as any);
    router.get('/thing', (req: any, res) => res.send(req.session ? 'session' : 'none'));
    app.use('/api', router);
    const other = express.Router();
    other.use(session(opts({ cookie: { path: '/api' } })) as any);
    other.get('/thing', (req: any, res) => res.send(req.session ? 'session' : 'none'));
    app.use('/other', other);
    const r1 = await request(app).get('/api/thing').expect('session');
    expect(sessionCookie(r1)).toContain('Path=/api');
    // req.url inside the router is /thing, but originalUrl /other/thing does not match /api
    const r2 = await request(app).get('/other/thing').expect('none');
    expect(setCookies(r2)).toHaveLength(0);
  });

  it('store get errors reach the Express error handler', async () => {
    const store = createTestStore();
    store.failOn.get = new Error('db down');
    const errors: any[] = [];
    const app = express();
    app.use(session(opts({ store })) as any);
    app.get('/', (_req, res) => res.send('unreachable'));
    app.use(errorHandler(errors));
    await request(app).get('/').set('Cookie', signedCookie('x')).expect(500, 'error: db down');
    expect(errors).toHaveLength(1);
  });

  it('store set errors reach the error handler after the response went out', async () => {
    const store = createTestStore();
    store.failOn.set = new Error('write failed');
    const errors: any[] = [];
    const app = express();
    app.use(session(opts({ store })) as any);
    app.get('/', (req: any, res) => {
      req.session.x = 1;
      res.send('sent');
    });
    app.use(errorHandler(errors));
    await request(app).get('/').expect(200, 'sent');
    await nextTick();
    await nextTick();
    expect(errors.map((e) => e.message)).toEqual(['write failed']);
  });

  it('missing secret gives a 500 matching /secret.*required/', async () => {
    const errors: any[] = [];
    const app = express();
    app.use(session({ resave: false, saveUninitialized: true }) as any);
    app.get('/', (_req, res) => res.send('unreachable'));
    app.use(errorHandler(errors));
    const res = await request(app).get('/').expect(500);
    expect(res.text).toMatch(/secret.*required/);
  });

  it('uses cookie-parser secret (req.secret) when no secret option is given', async () => {
    const app = express();
    app.use(cookieParser('keyboard cat'));
    app.use(session({ resave: false, saveUninitialized: true }) as any);
    app.get('/', (req: any, res) => {
      req.session.n = (req.session.n || 0) + 1;
      res.send(String(req.session.n));
    });
    const r1 = await request(app).get('/').expect('1');
    expect(cookie(r1)).toBe(signedCookie(sid(r1)!, 'keyboard cat'));
    await request(app).get('/').set('Cookie', cookie(r1)).expect('2');
  });

  it('cookie-parser with the same secret and session secret work together', async () => {
    const app = express();
    app.use(cookieParser('keyboard cat'));
    app.use(session(opts()) as any);
    app.get('/', (req: any, res) => {
      req.session.n = (req.session.n || 0) + 1;
      res.send(String(req.session.n));
    });
    const agent = request.agent(app);
    await agent.get('/').expect('1');
    await agent.get('/').expect('2');
  });

  it('req.session.regenerate/save (login flow) persists the new session', async () => {
    const store = createTestStore();
    const app = express();
    app.use(session(opts({ store, saveUninitialized: false })) as any);
    app.post('/login', (req: any, res, next) => {
      req.session.regenerate((err: any) => {
        if (err) return next(err);
        req.session.user = 'bob';
        req.session.save((err2: any) => {
          if (err2) return next(err2);
          res.redirect('/');
        });
      });
    });
    app.get('/', (req: any, res) => res.send(String(req.session.user)));
    const agent = request.agent(app);
    await agent.get('/').expect('undefined');
    await agent.post('/login').expect(302);
    await agent.get('/').expect('bob');
    expect(store.length()).toBe(1);
  });

  it('logout with destroy leaves no session', async () => {
    const store = createTestStore();
    const app = express();
    app.use(session(opts({ store })) as any);
    app.get('/login', (req: any, res) => {
      req.session.user = 'bob';
      res.send('in');
    });
    app.get('/logout', (req: any, res, next) => {
      req.session.destroy((err: any) => (err ? next(err) : res.send('out')));
    });
    app.get('/', (req: any, res) => res.send(String(req.session.user)));
    const agent = request.agent(app);
    await agent.get('/login').expect('in');
    const out = await agent.get('/logout').expect('out');
    expect(setCookies(out)).toHaveLength(0);
    expect(store.length()).toBe(0);
    await agent.get('/').expect('undefined');
  });
});
