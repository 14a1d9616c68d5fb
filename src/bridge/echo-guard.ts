/**
 * Pacing by what a subscriber actually receives (issue 18). A broker acknowledges a QoS 1
 * PUBLISH when it has it, not when its subscribers do: Mosquitto then forwards at most
 * `max_inflight_messages` (20) unacknowledged messages to each subscriber and silently drops QoS 1
 * messages once `max_queued_messages` (1,000) more wait for it (docs/performance.md, "Brokers";
 * eclipse-mosquitto/mosquitto#2039). PUBACK round trips therefore cannot see a wildcard
 * subscriber falling behind; only a subscriber can. The guard is that subscriber: the publisher
 * subscribes to its own retained topics and keeps at most `limit` of its messages not yet
 * received back. A subscriber that drains at least as fast as the bridge itself then never has
 * more than `limit` + 20 messages queued, under Mosquitto's 1,000: nothing is lost to it, at the
 * speed the slowest of the two allows, on a default or a tuned broker alike.
 *
 * Echoes are matched by topic (a multiset of topics sent and not yet back), and only live
 * deliveries count (a retained copy sent on subscribing is not an echo). When nothing comes back
 * for `stallMs` while the guard waits (the subscription was refused, the link dropped, another
 * client's subscription is what the broker serves), the outstanding messages are forgotten so a
 * publication never hangs on the guard; a stall before any echo ever came back (the broker's ACL
 * refused the subscription at connect) turns the guard off for good, so it costs one stall, not
 * one per `limit` messages.
 */
export interface EchoGuardOptions {
  /** Messages sent and not yet received back, at most. */
  limit: number;
  /** Waiting this long without any echo releases the guard. */
  stallMs?: number;
}

export class EchoGuard {
  private readonly pending = new Map<string, number>();
  private outstanding = 0;
  private waiters: (() => void)[] = [];
  private readonly stallMs: number;
  /** Times the guard gave up waiting (nothing came back for `stallMs`). */
  stalls = 0;
  /** Most messages outstanding at once since the guard was made. */
  maxInFlight = 0;
  /** Echoes received since the guard was made. */
  private echoes = 0;
  /** Off for good: nothing ever came back. */
  private off = false;

  constructor(private readonly options: EchoGuardOptions) {
    if (!Number.isInteger(options.limit) || options.limit < 1)
      throw new Error(`echo limit must be a positive integer, got ${options.limit}`);
    this.stallMs = options.stallMs ?? 1_000;
  }

  /** Whether the guard gave up for good (no echo ever came back). */
  get disabled(): boolean {
    return this.off;
  }

  get inFlight(): number {
    return this.outstanding;
  }

  /** Resolves when one more message may go; undefined (no wait) when under the limit. */
  admit(): Promise<void> | undefined {
    if (this.off || this.outstanding < this.options.limit) return undefined;
    return new Promise<void>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const wake = () => {
        if (timer) clearTimeout(timer);
        resolve();
      };
      this.waiters.push(wake);
      timer = setTimeout(() => {
        this.stalls += 1;
        if (this.echoes === 0) this.off = true;
        this.reset();
      }, this.stallMs);
    }).then(() => this.admit());
  }

  /** A message to `topic` was handed to the broker. */
  sent(topic: string): void {
    if (this.off) return;
    this.pending.set(topic, (this.pending.get(topic) ?? 0) + 1);
    this.outstanding += 1;
    if (this.outstanding > this.maxInFlight) this.maxInFlight = this.outstanding;
  }

  /** A live (not retained-on-subscribe) message on `topic` arrived through the subscription. */
  received(topic: string): void {
    const count = this.pending.get(topic);
    if (count === undefined) return;
    this.echoes += 1;
    if (count <= 1) this.pending.delete(topic);
    else this.pending.set(topic, count - 1);
    this.outstanding -= 1;
    this.wakeAll();
  }

  /** Forgets what is outstanding (a new connection: the old one's messages are not coming back). */
  reset(): void {
    this.pending.clear();
    this.outstanding = 0;
    this.wakeAll();
  }

  private wakeAll(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
