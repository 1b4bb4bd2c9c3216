import { ConfigurableModuleBuilder } from '@nestjs/common';
import { SESSION_MODULE_OPTIONS } from './session.constants';
import type { SessionModuleOptions } from './session-module-options.interface';

/** @internal */
export const {
  ConfigurableModuleClass: SessionModuleBase,
  OPTIONS_TYPE: SESSION_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: SESSION_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<SessionModuleOptions>({
  optionsInjectionToken: SESSION_MODULE_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createSessionOptions')
  .setExtras({ isGlobal: true }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();

/** `SessionModule.forRoot()` options, including `isGlobal` (default `true`). */
export type SessionModuleForRootOptions = typeof SESSION_OPTIONS_TYPE;

/**
 * `SessionModule.forRootAsync()` options: `imports`, `inject` and one of `useFactory`,
 * `useClass` or `useExisting` (a class implementing {@link SessionOptionsFactory}), plus `isGlobal`.
 */
export type SessionModuleAsyncOptions = typeof SESSION_ASYNC_OPTIONS_TYPE;

/** Implement it to provide the options with `forRootAsync({ useClass })` or `useExisting`. */
export interface SessionOptionsFactory {
  /** Returns the session options (or a promise of them). */
  createSessionOptions(): SessionModuleOptions | Promise<SessionModuleOptions>;
}
