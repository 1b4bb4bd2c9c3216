// A CommonJS consumer (node16/nodenext: a .cts file): `import x = require(...)`.
import nestSession = require('nest-session');
import session = require('nest-session/express');

const store: nestSession.SessionStore = new nestSession.MemoryStore();
export const module_ = nestSession.SessionModule.forRoot({ secret: 'x'.repeat(32), store });

export const middleware = session({
  secret: 'keyboard cat',
  resave: false,
  saveUninitialized: false,
  store: new session.MemoryStore(),
});
export class MyStore extends session.Store {}
export const version: string = (require('nest-session/package.json') as { version: string })
  .version;
