/**
 * The composition root's engine (issue 14): parts declared with the parts they need, started in
 * dependency order (declaration order among independent ones, so the declaration reads like the
 * start-up), stopped in exactly the reverse order of the starts that happened, a failed start
 * rolled back, and their health collected for `/readyz`. Modelled on zigbee2mqtt's controller and
 * its one extension per feature, without its ambient globals: a part receives what it uses when
 * it is built, and only the composition knows the order.
 */
import type { Part } from './part.js';

export interface PartDeclaration {
  /** Unique in the composition; names the part in the order, in errors and in logs. */
  readonly name: string;
  readonly part: Part;
  /** Parts that must have started before this one (and stop after it). */
  readonly needs?: readonly string[];
}

export interface CompositionLogger {
  /** Each part started and stopped (`part started`, `part stopped`), at debug level. */
  debug?(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface PartHealth {
  name: string;
  problems: readonly string[];
}

export class Composition {
  private readonly declarations: readonly PartDeclaration[];
  private readonly ordered: readonly PartDeclaration[];
  /** The parts whose start was called, in that order (a failed one included: it is stopped too). */
  private readonly started: PartDeclaration[] = [];
  private readonly running = new Set<string>();
  private stopping: Promise<void> | undefined;
  /** The start of the part being started, settled either way; null between parts. */
  private inFlight: Promise<void> | null = null;

  constructor(
    declarations: readonly PartDeclaration[],
    private readonly logger?: CompositionLogger,
  ) {
    this.declarations = declarations;
    this.ordered = startOrder(declarations);
  }

  /** The names in start order. */
  order(): string[] {
    return this.ordered.map((d) => d.name);
  }

  /**
   * Starts every part in order. If one throws, the parts already started and the failed one are
   * stopped in reverse order (their stop errors logged), then its error is thrown as it was (an
   * `InputError` still reaches the CLI as one); the log names the part. A `stop()` during the
   * start waits for the part being started, stops it with the others, and the start rejects
   * without starting the rest (a SIGTERM during a long start-up).
   */
  async start(): Promise<void> {
    if (this.started.length > 0 || this.stopping) throw new Error('a composition starts once');
    for (const declaration of this.ordered) {
      // A stop asked while a part was starting: the parts after it never start.
      if (this.stopping) throw new Error(`stopped while starting (before "${declaration.name}")`);
      this.started.push(declaration);
      try {
        const starting = Promise.resolve(declaration.part.start());
        this.inFlight = starting.then(
          () => undefined,
          () => undefined,
        );
        await starting;
      } catch (error) {
        this.logger?.error({ err: error, part: declaration.name }, 'part failed to start');
        await this.stop().catch((stopError: unknown) =>
          this.logger?.error({ err: stopError }, 'rollback of a failed start: some parts did not stop'),
        );
        throw error;
      }
      this.inFlight = null;
      this.running.add(declaration.name);
      this.logger?.debug?.({ part: declaration.name }, 'part started');
    }
  }

  /**
   * Stops the started parts, last started first. Every part is asked even if an earlier stop
   * throws; the errors are then thrown together. Idempotent: a second call waits for the first.
   */
  stop(): Promise<void> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  /**
   * The problems of each declared part that has a `health()`: a running one answers it, one not
   * running (before start, after stop, rolled back) says so. Parts without `health()` are not
   * listed: their failures show as a failed start, not as a lasting state.
   */
  health(): PartHealth[] {
    return this.declarations.flatMap((d) => {
      if (!d.part.health) return [];
      if (!this.running.has(d.name)) return [{ name: d.name, problems: [`${d.name}: not running`] }];
      return [{ name: d.name, problems: d.part.health() }];
    });
  }

  /** Every problem of every part, in declaration order (`/readyz`'s `missing`). */
  problems(): string[] {
    return this.health().flatMap((h) => h.problems);
  }

  private async stopAll(): Promise<void> {
    // A part still starting is stopped once its start has settled, never in the middle of it.
    await this.inFlight;
    const errors: unknown[] = [];
    for (const declaration of this.started.splice(0).reverse()) {
      this.running.delete(declaration.name);
      try {
        await declaration.part.stop();
        this.logger?.debug?.({ part: declaration.name }, 'part stopped');
      } catch (error) {
        errors.push(error);
        this.logger?.error({ err: error, part: declaration.name }, 'part failed to stop');
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} parts failed to stop`);
  }
}

/**
 * Dependency order, stable: repeatedly the first declared part whose needs have all started.
 * Throws on a duplicate name, an unknown need, or a cycle (naming the parts left).
 */
export function startOrder(declarations: readonly PartDeclaration[]): PartDeclaration[] {
  const names = new Set<string>();
  for (const d of declarations) {
    if (names.has(d.name)) throw new Error(`part "${d.name}" is declared twice`);
    names.add(d.name);
  }
  for (const d of declarations)
    for (const need of d.needs ?? [])
      if (!names.has(need)) throw new Error(`part "${d.name}" needs "${need}", which is not declared`);
  const order: PartDeclaration[] = [];
  const placed = new Set<string>();
  const left = [...declarations];
  while (left.length > 0) {
    const next = left.findIndex((d) => (d.needs ?? []).every((need) => placed.has(need)));
    if (next < 0) throw new Error(`parts in a dependency cycle: ${left.map((d) => d.name).join(', ')}`);
    const [declaration] = left.splice(next, 1);
    order.push(declaration!);
    placed.add(declaration!.name);
  }
  return order;
}
