/**
 * nest-session/terminus: the session store's health check for `@nestjs/terminus` (an optional
 * peer: only applications importing this entry point load it).
 */
export { SessionHealthIndicator } from './session-health.indicator';
export { SessionHealthModule } from './session-health.module';
export type { SessionHealthOptions } from './session-health.options';
export type { NodeProbe, StoreProbe } from './store-probe';
