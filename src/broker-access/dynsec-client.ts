/**
 * A client of Mosquitto 2's dynamic-security plugin: JSON commands published on
 * `$CONTROL/dynamic-security/v1`, answers on `…/response` (mosquitto.org/documentation/
 * dynamic-security, "Sending commands"). Several commands go in one message; the plugin answers
 * them in one message, in order. One message is in flight at a time, so answers pair with requests.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

export const DYNSEC_TOPIC = '$CONTROL/dynamic-security/v1';
export const DYNSEC_RESPONSE_TOPIC = `${DYNSEC_TOPIC}/response`;

export interface DynsecCommand {
  command: string;
  [field: string]: unknown;
}

export interface DynsecResponse {
  command: string;
  error?: string;
  data?: unknown;
  correlationData?: string;
}

export interface DynsecConnectOptions {
  url: string;
  username: string;
  password: string;
  /** Commands per message. */
  batchSize?: number;
  timeoutMs?: number;
  tls?: Pick<IClientOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized'>;
}

/** The broker did not answer, refused the admin login, or answered something unreadable. */
export class DynsecError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DynsecError';
  }
}

export class DynsecClient {
  private pending: {
    correlation: string;
    resolve(r: DynsecResponse[]): void;
    reject(e: Error): void;
  } | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  /** Messages sent since connect (the benchmark and the tests count them). */
  messagesSent = 0;

  private constructor(
    private readonly client: MqttClient,
    private readonly batchSize: number,
    private readonly timeoutMs: number,
  ) {
    client.on('message', (topic, payload) => {
      if (topic !== DYNSEC_RESPONSE_TOPIC || !this.pending) return;
      let responses: DynsecResponse[];
      try {
        responses =
          (JSON.parse(payload.toString('utf8')) as { responses?: DynsecResponse[] }).responses ?? [];
      } catch (error) {
        this.pending.reject(new DynsecError('unreadable dynamic-security answer', { cause: error }));
        return;
      }
      // Another admin session's answers share the topic: ours carry our correlation data.
      if (responses[0]?.correlationData !== this.pending.correlation) return;
      this.pending.resolve(responses);
    });
    client.on('close', () => this.pending?.reject(new DynsecError('the broker closed the admin session')));
  }

  static async connect(options: DynsecConnectOptions): Promise<DynsecClient> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const client = mqtt.connect(options.url, {
      username: options.username,
      password: options.password,
      clientId: `scope-energie-provisioning-${randomBytes(4).toString('hex')}`,
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: timeoutMs,
      ...options.tls,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
        client.once('close', () => reject(new Error('connection closed before CONNACK')));
      });
      client.on('error', () => {});
      const [grant] = await client.subscribeAsync(DYNSEC_RESPONSE_TOPIC, { qos: 1 });
      if (!grant || grant.qos === 128)
        throw new Error(`${options.username} may not read ${DYNSEC_RESPONSE_TOPIC}`);
    } catch (error) {
      client.end(true);
      throw new DynsecError(
        `cannot open a dynamic-security admin session on ${options.url} as ${options.username}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    return new DynsecClient(client, options.batchSize ?? 100, timeoutMs);
  }

  /** Sends `commands` in batches; answers in the same order. Failed commands carry `error`. */
  execute(commands: readonly DynsecCommand[]): Promise<DynsecResponse[]> {
    const run = this.queue.then(async () => {
      const answers: DynsecResponse[] = [];
      for (let i = 0; i < commands.length; i += this.batchSize) {
        answers.push(...(await this.send(commands.slice(i, i + this.batchSize))));
      }
      return answers;
    });
    this.queue = run.catch(() => {});
    return run;
  }

  /** One command; throws `DynsecError` if the broker answers an error. */
  async one(command: DynsecCommand): Promise<DynsecResponse> {
    const [answer] = await this.execute([command]);
    if (!answer || answer.error) {
      throw new DynsecError(`${command.command} failed: ${answer?.error ?? 'no answer'}`);
    }
    return answer;
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }

  private send(batch: readonly DynsecCommand[]): Promise<DynsecResponse[]> {
    const correlation = randomBytes(8).toString('hex');
    const [first, ...rest] = batch;
    if (!first) return Promise.resolve([]);
    const message = { commands: [{ ...first, correlationData: correlation }, ...rest] };
    return new Promise<DynsecResponse[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = null;
        reject(
          new DynsecError(`no dynamic-security answer within ${this.timeoutMs} ms (is the plugin loaded?)`),
        );
      }, this.timeoutMs);
      const done =
        <T>(settle: (value: T) => void) =>
        (value: T) => {
          clearTimeout(timer);
          this.pending = null;
          settle(value);
        };
      this.pending = { correlation, resolve: done(resolve), reject: done(reject) };
      this.messagesSent++;
      this.client.publish(DYNSEC_TOPIC, JSON.stringify(message), { qos: 1 }, (error) => {
        if (error)
          this.pending?.reject(new DynsecError(`publish to ${DYNSEC_TOPIC} failed`, { cause: error }));
      });
    }).then((responses) => {
      if (responses.length !== batch.length) {
        throw new DynsecError(`${responses.length} answers to ${batch.length} dynamic-security commands`);
      }
      return responses;
    });
  }
}
