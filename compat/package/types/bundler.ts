// A bundler consumer (moduleResolution bundler: a .ts file, ESM syntax).
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import {
  MemoryStore,
  RedisStore,
  RequireSession,
  Session,
  SessionModule,
  SessionStore,
  type RequestSession,
  type SessionModuleOptions,
  type SessionValue,
} from 'nest-session';
import session, { MemoryStore as ExpressMemoryStore, Store } from 'nest-session/express';

declare module 'nest-session' {
  interface SessionData {
    visits: number;
    userId: string;
  }
}

@Controller('counter')
export class CounterController {
  @Get()
  @RequireSession('userId')
  visit(@Session() s: RequestSession, @Session('userId') user: SessionValue<'userId'>): number {
    s.visits = (s.visits ?? 0) + 1;
    return user ? s.visits : 0;
  }
}

const options: SessionModuleOptions = { secret: 'x'.repeat(32), store: new MemoryStore() };

@Module({ imports: [SessionModule.forRoot(options)], controllers: [CounterController] })
export class AppModule {}

export const stores: SessionStore[] = [new MemoryStore()];
export type Redis = RedisStore;

const middleware = session({
  secret: 'keyboard cat',
  resave: false,
  saveUninitialized: false,
  store: new ExpressMemoryStore(),
});
export const base: typeof session.Store = Store;
export default middleware;
