/**
 * A graphql-ws client (the `graphql-ws` package over `ws`) for the subscription suites: sends
 * the session cookie with the upgrade request, as a browser does, and reports what came back:
 * the first result of a subscription, the upgrade response's headers, or the close code of a
 * refused connection.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

/** What one subscription answered. */
export interface SubscriptionOutcome {
  /** The first `next` payload, if any. */
  result?: { data?: Record<string, unknown> | null; errors?: readonly SubscriptionError[] };
  /** The errors of an `error` message (a refused subscription). */
  errors?: readonly SubscriptionError[];
  /** The close code when the connection itself was refused. */
  closeCode?: number;
  /** The headers of the upgrade (101) response. */
  upgradeHeaders?: IncomingHttpHeaders;
}

export interface SubscriptionError {
  message: string;
  extensions?: Record<string, unknown>;
}

/** Subscribes to `query` on `url` (ws://.../graphql), takes the first event, and disconnects. */
export function subscribeOnce(
  url: string,
  query: string,
  cookie?: string,
): Promise<SubscriptionOutcome> {
  const outcome: SubscriptionOutcome = {};
  class CookieWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, cookie ? { headers: { cookie } } : {});
      this.once('upgrade', (res: IncomingMessage) => (outcome.upgradeHeaders = res.headers));
    }
  }
  const client = createClient({
    url,
    webSocketImpl: CookieWebSocket,
    retryAttempts: 0,
    lazy: true,
    on: {
      closed: (event) => {
        const code = (event as { code?: number }).code;
        if (code !== undefined && code !== 1000) outcome.closeCode = code;
      },
    },
  });
  return new Promise<SubscriptionOutcome>((resolve) => {
    const finish = (): void => {
      void client.dispose();
      resolve(outcome);
    };
    const unsubscribe = client.subscribe(
      { query },
      {
        next: (value) => {
          outcome.result = value as SubscriptionOutcome['result'];
          unsubscribe();
          finish();
        },
        error: (err) => {
          if (Array.isArray(err)) outcome.errors = err as SubscriptionError[];
          else {
            const code = (err as { code?: number }).code;
            if (typeof code === 'number') outcome.closeCode = code;
          }
          finish();
        },
        complete: finish,
      },
    );
  });
}
