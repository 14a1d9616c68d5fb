/**
 * The HTTP server as a part of the service (issue 14). Its port is checked free (and, when 0,
 * chosen) before anything starts, so that a taken port stops the start before the bridge
 * publishes anything and Home Assistant's discovery can name the dashboard's URL; the server
 * listens only once the app exists, declared after every other part: until then a connection is
 * refused, never answered by a stand-in (docs/deployment.md, "Start-up").
 */
import { type AddressInfo, connect, createServer } from 'node:net';
import { serve } from '@hono/node-server';
import type { Part } from '../lifecycle/part.js';

type Fetch = Parameters<typeof serve>[0]['fetch'];

export class HttpServer implements Part {
  private server: ReturnType<typeof serve> | null = null;

  /** `fetch` receives @hono/node-server's `{ incoming, outgoing }` as `env` (throttling, 413 close). */
  constructor(
    private readonly fetch: Fetch,
    readonly hostname: string,
    readonly port: number,
  ) {}

  /** `http://host:port`, an IPv6 host in brackets. */
  get url(): string {
    return `http://${this.hostname.includes(':') ? `[${this.hostname}]` : this.hostname}:${this.port}`;
  }

  async start(): Promise<void> {
    this.server = await listen(this.fetch, this.hostname, this.port);
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    await new Promise<void>((done) => {
      if (!server) return done();
      server.close(() => done());
      // Keep-alive sockets (browsers, API clients) would hold close() open.
      if ('closeAllConnections' in server) server.closeAllConnections();
    });
  }
}

/**
 * The port the server will listen on, checked free now without accepting anything: a fixed port by
 * trying to connect to it (refused: free), port 0 (tests, several instances on one host) by
 * letting the system choose one, which no client knows yet. The server binds it after start-up;
 * another process taking it meanwhile makes that bind, and the start, fail.
 */
export async function reservePort(hostname: string, port: number): Promise<number> {
  if (port !== 0) {
    if (await answers(hostname, port))
      throw listenError(Object.assign(new Error('in use'), { code: 'EADDRINUSE' }), hostname, port);
    return port;
  }
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ host: hostname, port: 0, exclusive: true }, () => {
      const chosen = (probe.address() as AddressInfo).port;
      probe.close(() => resolvePort(chosen));
    });
  });
}

/** Whether something accepts connections on `port` of `hostname` (a wildcard host: loopback). */
function answers(hostname: string, port: number): Promise<boolean> {
  const host = hostname === '0.0.0.0' ? '127.0.0.1' : hostname === '::' ? '::1' : hostname;
  return new Promise((done) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

function listenError(error: NodeJS.ErrnoException, hostname: string, port: number): Error {
  return error.code === 'EADDRINUSE'
    ? new Error(
        `HTTP port ${port} on ${hostname} is already in use: set server.port in config/local.yaml or SCOPE_ENERGIE_SERVER__PORT`,
      )
    : error;
}

function listen(fetch: Fetch, hostname: string, port: number): Promise<ReturnType<typeof serve>> {
  return new Promise((resolveServer, reject) => {
    const server = serve({ fetch, hostname, port }, () => resolveServer(server));
    server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, hostname, port)));
  });
}
