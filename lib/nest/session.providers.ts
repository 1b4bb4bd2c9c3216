import type { Provider } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { SessionEngine } from '../engine/lifecycle/session-engine';
import { resolveSessionOptions } from '../engine/session-options';
import { CallbackStoreAdapter } from '../stores/callback-store-adapter';
import { QUIET_MEMORY_STORE_DEFAULT } from '../stores/default-store';
import { SessionStore } from '../stores/session-store';
import { type ResolvedModuleOptions, resolveModuleOptions } from './resolve-module-options';
import { bridgeSessionEvents } from './session-event-bridge';
import {
  SESSION_ENGINE,
  SESSION_MODULE_OPTIONS,
  SESSION_RESOLVED_OPTIONS,
} from './session.constants';
import type { SessionModuleOptions } from './session-module-options.interface';

/** Validated options (a bad option fails the application's boot here). @internal */
export const resolvedOptionsProvider: Provider = {
  provide: SESSION_RESOLVED_OPTIONS,
  inject: [SESSION_MODULE_OPTIONS],
  useFactory: (options: SessionModuleOptions): ResolvedModuleOptions =>
    resolveModuleOptions(options),
};

/** The engine: one per module instance, with its store (the default MemoryStore is created here). @internal */
export const engineProvider: Provider = {
  provide: SESSION_ENGINE,
  inject: [SESSION_RESOLVED_OPTIONS, ModuleRef],
  useFactory: (options: ResolvedModuleOptions, moduleRef: ModuleRef): SessionEngine =>
    new SessionEngine(
      resolveSessionOptions(
        { ...options.engine, events: bridgeSessionEvents(options.engine.events, moduleRef) },
        QUIET_MEMORY_STORE_DEFAULT,
      ),
    ),
};

/** The store as a promise-style {@link SessionStore}, injectable by its class. @internal */
export const storeProvider: Provider = {
  provide: SessionStore,
  inject: [SESSION_ENGINE],
  useFactory: (engine: SessionEngine): SessionStore => {
    const store = engine.options.store;
    return store instanceof SessionStore ? store : new CallbackStoreAdapter(store);
  },
};
