/**
 * Small messages between the processes sharing one database (issue 8): "this school's timetable
 * changed", "this school's overrides changed", so that the instance holding the school's lease
 * replans at once even when the HTTP request landed on another instance. PostgreSQL LISTEN/NOTIFY
 * on a channel named after the schema (instances of different schemas never hear each other);
 * SQLite serves one process, so its signals stay in that process.
 *
 * Best effort by design: a lost signal delays a change until the next sync or hourly replan, it
 * never loses it (the data is in the tables).
 */
import pg from 'pg';

export interface StoreSignals {
  notify(message: string): Promise<void>;
  /** Calls `handler` for every message from any process (including this one). */
  listen(handler: (message: string) => void): Promise<() => Promise<void>>;
}

/** NOTIFY payloads must stay under 8,000 bytes; ours are a few dozen. */
const MAX_MESSAGE_BYTES = 7_900;

export function inProcessSignals(): StoreSignals {
  const handlers = new Set<(message: string) => void>();
  return {
    async notify(message) {
      // Asked again at delivery: a listener that stopped meanwhile hears nothing more, as on PostgreSQL.
      for (const handler of handlers) queueMicrotask(() => handlers.has(handler) && handler(message));
    },
    async listen(handler) {
      handlers.add(handler);
      return async () => {
        handlers.delete(handler);
      };
    },
  };
}

export interface PostgresSignalsOptions {
  databaseUrl: string;
  /** The schema the store's tables are in: names the channel. */
  schema: string;
  /** Sends a NOTIFY through the store's pool. */
  send: (channel: string, message: string) => Promise<void>;
  onError?: (error: Error) => void;
  /** Longest wait for the LISTEN session's connection; default 5 s. */
  connectTimeoutMs?: number;
  /** Longest wait for the LISTEN statement's answer; default 15 s. */
  queryTimeoutMs?: number;
}

/** Reconnect delays of the LISTEN session: 0.5 s doubling to this cap, ±20 % jitter. */
const RECONNECT_MAX_MS = 4_000;

export function postgresSignals(options: PostgresSignalsOptions): StoreSignals {
  const channel = `scope_energie_${options.schema}`.slice(0, 63);
  const quoted = `"${channel.replaceAll('"', '""')}"`;
  return {
    async notify(message) {
      if (Buffer.byteLength(message) > MAX_MESSAGE_BYTES) throw new Error('signal message too long');
      await options.send(channel, message);
    },
    async listen(handler) {
      // A dedicated connection: LISTEN belongs to a session, and a pooled one changes hands.
      let client: pg.Client | undefined;
      let stopped = false;
      let retry: NodeJS.Timeout | undefined;
      let failures = 0;
      const reconnectLater = (): void => {
        if (stopped || retry) return;
        // Capped and jittered: instances restarted together do not hammer a recovering server in step.
        const base = Math.min(RECONNECT_MAX_MS, 500 * 2 ** failures);
        failures += 1;
        retry = setTimeout(
          () => {
            retry = undefined;
            void connect();
          },
          Math.round(base * (0.8 + 0.4 * Math.random())),
        );
      };
      /** The session is gone (error or end, whichever comes first): LISTEN died with it. */
      const lost = (session: pg.Client, error?: Error): void => {
        if (error) options.onError?.(error);
        if (client !== session) return;
        client = undefined;
        void session.end().catch(() => {});
        reconnectLater();
      };
      const connect = async (): Promise<void> => {
        // keepAlive: an idle LISTEN session is what firewalls drop silently; probes notice it.
        const next = new pg.Client({
          connectionString: options.databaseUrl,
          keepAlive: true,
          connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
          query_timeout: options.queryTimeoutMs ?? 15_000,
        });
        next.on('notification', (n) => {
          if (n.channel === channel && n.payload !== undefined) handler(n.payload);
        });
        // Listened to for the client's whole life: an unhandled 'error' would end the process.
        next.on('error', (error) => lost(next, error));
        next.on('end', () => lost(next));
        try {
          await next.connect();
          await next.query(`listen ${quoted}`);
        } catch (error) {
          void next.end().catch(() => {});
          options.onError?.(error as Error);
          reconnectLater();
          return;
        }
        if (stopped) {
          await next.end().catch(() => {});
          return;
        }
        failures = 0;
        client = next;
      };
      await connect();
      return async () => {
        stopped = true;
        clearTimeout(retry);
        const current = client;
        client = undefined;
        await current?.end().catch(() => {});
      };
    },
  };
}
