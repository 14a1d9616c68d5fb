import { describe, expect, it } from 'vitest';
import { Composition, startOrder } from '../../src/lifecycle/composition.js';
import { type Part, subscriptionsPart } from '../../src/lifecycle/part.js';

/** A part that records its starts and stops in `log`, and may fail or report problems. */
function recorded(
  log: string[],
  name: string,
  options: { failStart?: boolean; failStop?: boolean; problems?: string[] } = {},
): Part {
  return {
    async start() {
      log.push(`start ${name}`);
      // A real start yields to the loop: the order must hold across awaits.
      await Promise.resolve();
      if (options.failStart) throw new Error(`${name} refused`);
    },
    stop() {
      log.push(`stop ${name}`);
      if (options.failStop) throw new Error(`${name} stuck`);
    },
    health: () => options.problems ?? [],
  };
}

describe('Composition', () => {
  it('starts in dependency order, declaration order among independent parts, and stops in reverse', async () => {
    const log: string[] = [];
    const composition = new Composition([
      { name: 'connection', part: recorded(log, 'connection'), needs: ['dispatcher', 'broker'] },
      { name: 'broker', part: recorded(log, 'broker') },
      { name: 'dispatcher', part: recorded(log, 'dispatcher'), needs: ['planning'] },
      { name: 'store', part: recorded(log, 'store') },
      { name: 'planning', part: recorded(log, 'planning'), needs: ['store'] },
    ]);
    expect(composition.order()).toEqual(['broker', 'store', 'planning', 'dispatcher', 'connection']);
    await composition.start();
    await composition.stop();
    expect(log).toEqual([
      'start broker',
      'start store',
      'start planning',
      'start dispatcher',
      'start connection',
      'stop connection',
      'stop dispatcher',
      'stop planning',
      'stop store',
      'stop broker',
    ]);
  });

  it('rolls a failed start back: the failed part and those before it stop, last first, and the rest never start', async () => {
    const log: string[] = [];
    const logged: string[] = [];
    const composition = new Composition(
      [
        { name: 'a', part: recorded(log, 'a') },
        { name: 'b', part: recorded(log, 'b'), needs: ['a'] },
        { name: 'c', part: recorded(log, 'c', { failStart: true }), needs: ['b'] },
        { name: 'd', part: recorded(log, 'd'), needs: ['c'] },
      ],
      { error: (obj, msg) => logged.push(`${(obj as { part?: string }).part}: ${msg}`) },
    );
    // The part's own error, unwrapped (the CLI maps an InputError to exit code 2).
    await expect(composition.start()).rejects.toThrow(new Error('c refused'));
    expect(log).toEqual(['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
    expect(logged).toEqual(['c: part failed to start']);
    // Stopping again after the rollback stops nothing twice.
    await composition.stop();
    expect(log).toHaveLength(6);
  });

  it('keeps stopping when a stop throws, logs it, and throws the errors together', async () => {
    const log: string[] = [];
    const logged: string[] = [];
    const composition = new Composition(
      [
        { name: 'a', part: recorded(log, 'a', { failStop: true }) },
        { name: 'b', part: recorded(log, 'b') },
        { name: 'c', part: recorded(log, 'c', { failStop: true }) },
      ],
      { error: (obj, msg) => logged.push(`${(obj as { part?: string }).part}: ${msg}`) },
    );
    await composition.start();
    const failure = await composition.stop().catch((error: unknown) => error);
    expect(log).toEqual(['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
    expect(failure).toBeInstanceOf(AggregateError);
    expect((failure as AggregateError).errors.map((e: Error) => e.message)).toEqual(['c stuck', 'a stuck']);
    expect(logged).toEqual(['c: part failed to stop', 'a: part failed to stop']);
  });

  it('collects health: each running part with health() answers, one not running says so, one without health() is not listed', async () => {
    const log: string[] = [];
    const composition = new Composition([
      {
        name: 'broker',
        part: recorded(log, 'broker', { problems: ['broker: mqtt://127.0.0.1:1 unreachable'] }),
      },
      {
        name: 'sync',
        part: recorded(log, 'sync', { problems: ['sync: 0670999X never pulled', 'sync: 0671234A stale'] }),
      },
      { name: 'silent', part: { start() {}, stop() {} } },
    ]);
    expect(composition.problems()).toEqual(['broker: not running', 'sync: not running']);
    await composition.start();
    expect(composition.health()).toEqual([
      { name: 'broker', problems: ['broker: mqtt://127.0.0.1:1 unreachable'] },
      { name: 'sync', problems: ['sync: 0670999X never pulled', 'sync: 0671234A stale'] },
    ]);
    expect(composition.problems()).toEqual([
      'broker: mqtt://127.0.0.1:1 unreachable',
      'sync: 0670999X never pulled',
      'sync: 0671234A stale',
    ]);
    await composition.stop();
    expect(composition.problems()).toEqual(['broker: not running', 'sync: not running']);
  });

  it('refuses a duplicate name, an unknown need and a cycle', () => {
    const part: Part = { start() {}, stop() {} };
    expect(() =>
      startOrder([
        { name: 'a', part },
        { name: 'a', part },
      ]),
    ).toThrow('part "a" is declared twice');
    expect(() => startOrder([{ name: 'a', part, needs: ['b'] }])).toThrow(
      'part "a" needs "b", which is not declared',
    );
    expect(() =>
      startOrder([
        { name: 'x', part },
        { name: 'a', part, needs: ['b'] },
        { name: 'b', part, needs: ['a'] },
      ]),
    ).toThrow('parts in a dependency cycle: a, b');
  });

  it('a stop during the start waits for the part starting, stops it and those before, and starts none after', async () => {
    const log: string[] = [];
    let finishSlow!: () => void;
    const slowDone = new Promise<void>((resolve) => {
      finishSlow = resolve;
    });
    let slowStarting!: () => void;
    const slowBegan = new Promise<void>((resolve) => {
      slowStarting = resolve;
    });
    const composition = new Composition([
      { name: 'a', part: { start: () => void log.push('start a'), stop: () => void log.push('stop a') } },
      {
        name: 'slow',
        part: {
          start: () => {
            log.push('start slow');
            slowStarting();
            return slowDone;
          },
          stop: () => void log.push('stop slow'),
        },
        needs: ['a'],
      },
      {
        name: 'late',
        part: { start: () => void log.push('start late'), stop: () => void log.push('stop late') },
        needs: ['slow'],
      },
    ]);
    const starting = composition.start().then(
      () => 'started',
      (error: Error) => error.message,
    );
    await slowBegan;
    const stopping = composition.stop();
    log.push('slow finishes');
    finishSlow();
    await stopping;
    expect(await starting).toBe('stopped while starting (before "late")');
    expect(log).toEqual(['start a', 'start slow', 'slow finishes', 'stop slow', 'stop a']);
    expect(composition.problems()).toEqual([]);
  });

  it('starts once', async () => {
    const composition = new Composition([{ name: 'a', part: { start() {}, stop() {} } }]);
    await composition.start();
    await expect(composition.start()).rejects.toThrow('a composition starts once');
  });
});

describe('subscriptionsPart', () => {
  it('subscribes at start and unsubscribes at stop, last first', () => {
    const log: string[] = [];
    const part = subscriptionsPart(
      () => {
        log.push('on reload');
        return () => log.push('off reload');
      },
      () => {
        log.push('on change');
        return () => log.push('off change');
      },
    );
    part.start();
    part.stop();
    part.stop();
    expect(log).toEqual(['on reload', 'on change', 'off change', 'off reload']);
  });
});
