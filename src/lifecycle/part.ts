/**
 * The one shape of every long-lived part of the service (issue 14): something that starts, stops,
 * and can tell what keeps it from serving. The composition root (`composition.ts`) declares the
 * parts with their dependencies and runs them in order; a part never starts or stops another.
 */
export interface Part {
  /** Takes up the part's resources (timers, sockets, subscriptions); resolves once it serves. */
  start(): void | Promise<void>;
  /**
   * Gives them back. Called once per start, in the reverse order of the starts, and also after a
   * start that threw (the rollback): a part's stop must tolerate a start that got halfway.
   */
  stop(): void | Promise<void>;
  /** What keeps the part from serving now (`/readyz`'s `missing`); empty or absent: healthy. */
  health?(): readonly string[];
}

/** A part made of subscriptions: each one taken at start, all given back at stop (last first). */
export function subscriptionsPart(...subscribe: Array<() => () => unknown>): Part {
  const taken: Array<() => unknown> = [];
  return {
    start() {
      for (const take of subscribe) taken.push(take());
    },
    stop() {
      for (const give of taken.splice(0).reverse()) give();
    },
  };
}
