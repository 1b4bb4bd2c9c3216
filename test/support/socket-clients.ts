/**
 * Real WebSocket clients for the e2e suites, one interface over socket.io-client and ws: connect
 * with headers (the cookie, the session header), send an event and wait for the answer of that
 * name (or an `exception`), and see when the server closed the connection.
 */
import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';

/** The two gateway libraries. */
export type SocketKind = 'socket.io' | 'ws';
export const SOCKET_KINDS: readonly SocketKind[] = ['socket.io', 'ws'];

/** The path of the test gateways on ws (socket.io uses its default `/socket.io/`). */
export const WS_PATH = '/ws';

/** A message the server sent: `{ event, data }`. */
export interface Incoming<T = unknown> {
  event: string;
  data: T;
}

/** A connected test client. */
export interface TestSocket {
  /** Sends `event` and resolves the next message named `event` or `exception`. */
  request<T = unknown>(event: string, data?: unknown): Promise<Incoming<T>>;
  /** The server (or the client) closed the connection. */
  readonly closed: boolean;
  /** ws: the close code; socket.io: the disconnect reason. */
  readonly closeReason: string | number | undefined;
  close(): void;
}

/** A refused connection: socket.io's `connect_error` message, or ws's upgrade status. */
export class ConnectRefused extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
  }
}

class Inbox {
  private readonly messages: Incoming[] = [];
  private waiter: { names: string[]; resolve: (m: Incoming) => void } | undefined;

  push(message: Incoming): void {
    const w = this.waiter;
    if (w && w.names.includes(message.event)) {
      this.waiter = undefined;
      w.resolve(message);
    } else this.messages.push(message);
  }

  next(names: string[]): Promise<Incoming> {
    const i = this.messages.findIndex((m) => names.includes(m.event));
    if (i >= 0) return Promise.resolve(this.messages.splice(i, 1)[0] as Incoming);
    return new Promise((resolve) => (this.waiter = { names, resolve }));
  }
}

function connectIo(port: number, headers: Record<string, string>): Promise<TestSocket> {
  const socket: Socket = io(`http://127.0.0.1:${port}`, {
    transports: ['websocket'],
    extraHeaders: headers,
    reconnection: false,
    forceNew: true,
  });
  const inbox = new Inbox();
  let closed = false;
  let reason: string | undefined;
  socket.onAny((event: string, data: unknown) => inbox.push({ event, data }));
  socket.on('disconnect', (why) => {
    closed = true;
    reason = why;
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () =>
      resolve({
        request: (event, data) => {
          socket.emit(event, data);
          return inbox.next([event, 'exception']) as never;
        },
        get closed() {
          return closed;
        },
        get closeReason() {
          return reason;
        },
        close: () => socket.disconnect(),
      }),
    );
    socket.once('connect_error', (err: Error & { data?: { status?: number } }) => {
      socket.close();
      reject(new ConnectRefused(err.message, err.data?.status));
    });
  });
}

function connectWs(port: number, headers: Record<string, string>): Promise<TestSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${WS_PATH}`, { headers });
  const inbox = new Inbox();
  let closed = false;
  let code: number | undefined;
  ws.on('message', (raw) => inbox.push(JSON.parse(String(raw)) as Incoming));
  ws.on('close', (c) => {
    closed = true;
    code = c;
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () =>
      resolve({
        request: (event, data) => {
          ws.send(JSON.stringify({ event, data }));
          return inbox.next([event, 'exception']) as never;
        },
        get closed() {
          return closed;
        },
        get closeReason() {
          return code;
        },
        close: () => ws.close(),
      }),
    );
    ws.once('unexpected-response', (_req, res) => {
      reject(new ConnectRefused(res.statusMessage ?? '', res.statusCode));
      ws.terminate();
    });
    ws.once('error', (err) => reject(err));
  });
}

/** Connects a client of `kind` to the gateway on `port`, sending `headers` with the upgrade. */
export function connectSocket(
  kind: SocketKind,
  port: number,
  headers: Record<string, string> = {},
): Promise<TestSocket> {
  return kind === 'ws' ? connectWs(port, headers) : connectIo(port, headers);
}
