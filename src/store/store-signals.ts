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
}

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
      const connect = async (): Promise<void> => {
        // keepAlive: an idle LISTEN session is what firewalls drop silently; probes notice it.
        const next = new pg.Client({ connectionString: options.databaseUrl, keepAlive: true });
        next.on('notification', (n) => {
          if (n.channel === channel && n.payload !== undefined) handler(n.payload);
        });
        next.on('error', (error) => {
          options.onError?.(error);
          // Reconnect: the LISTEN died with the session.
          if (!stopped && client === next) {
            client = undefined;
            void next.end().catch(() => {});
            retry = setTimeout(() => void connect().catch(() => {}), 1_000);
          }
        });
        try {
          await next.connect();
          await next.query(`listen ${quoted}`);
        } catch (error) {
          void next.end().catch(() => {});
          options.onError?.(error as Error);
          if (!stopped) retry = setTimeout(() => void connect().catch(() => {}), 1_000);
          return;
        }
        if (stopped) {
          await next.end();
          return;
        }
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
