import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Request } from 'express';
import { CsrfTokenException, flashOf } from '../../lib';
import { userOf } from '../auth/passport-request';
import { errorPage } from './pages';

/** Headers of every HTML page: no caching of personal pages, a strict CSP, no sniffing. */
export const HTML_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  'Content-Security-Policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
};

/**
 * Errors of the HTML pages as HTML: 401 (not signed in, or wrong credentials on the sign-in
 * form, then with a flash message for the form) redirects to the sign-in form with 303; other
 * HTTP errors render an error page. Written through Nest's HTTP adapter, so it answers the same
 * on Express and Fastify.
 */
@Catch(HttpException)
export class WebExceptionFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: HttpException, host: ArgumentsHost): void {
    const http = this.adapterHost.httpAdapter;
    const req = host.switchToHttp().getRequest<Request>();
    const res = host.switchToHttp().getResponse<unknown>();
    const status = exception.getStatus();
    if (status === HttpStatus.UNAUTHORIZED) {
      // Wrong credentials on the form: the form shows the error once (a flash message).
      const path = String(http.getRequestUrl(req)).split('?')[0];
      if (http.getRequestMethod(req) === 'POST' && path === '/web/sign-in') {
        flashOf(req).add('error', 'Wrong username or password.');
      }
      http.redirect(res, 303, '/web/sign-in');
      return;
    }
    const body = exception.getResponse();
    const message =
      // CsrfGuard's 403 (no token, or one of another session): what a visitor can act on.
      exception instanceof CsrfTokenException
        ? 'The form has expired. Reload the page and try again.'
        : typeof body === 'object' && body !== null && 'message' in body
          ? String((body as { message: unknown }).message)
          : exception.message;
    // No form token here: an error page never writes the session.
    const user = userOf(req) ?? null;
    for (const [name, value] of Object.entries(HTML_HEADERS)) http.setHeader(res, name, value);
    http.reply(res, errorPage({ user }, status, message), status);
  }
}
