import { Reflector } from '@nestjs/core';

/**
 * The route metadata {@link SessionGuard} reads, kept apart from the decorators that set it
 * (`RequireSession`, `OptionalSession` apply the guard, so they import it).
 * @internal
 */
export const REQUIRED_SESSION_KEYS = Reflector.createDecorator<string[]>();

/** Marks a route as public under a global guard (`OptionalSession`). @internal */
export const SESSION_OPTIONAL = Reflector.createDecorator<boolean>({ transform: () => true });
