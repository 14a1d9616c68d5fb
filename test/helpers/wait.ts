/**
 * The only two ways a test lets real time pass (a test in test/repository checks that no other
 * file does):
 *
 * - `waitFor(check)`: polls until a condition holds. The pause between polls is a poll interval,
 *   never a synchronisation: the test goes on as soon as the condition is seen.
 * - `elapse(ms, why)`: lets a stated duration of real time pass where the duration itself is the
 *   subject and no injectable clock owns it — the length of an injected outage, a lease TTL counted
 *   by the database server's own clock. It must never stand in for "long enough for X to happen":
 *   that is `waitFor`, or a barrier (a later event that proves an earlier one would have arrived).
 */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.what ?? 'a condition'}`);
    }
    await pause(options.intervalMs ?? 20);
  }
}

/** Lets `ms` of real time pass; `why` says what the duration is (see above). */
export function elapse(ms: number, why: string): Promise<void> {
  if (why.trim().length === 0) throw new Error('elapse() needs a reason');
  return pause(ms);
}

/** Resolves `'deadline'` after `ms`: the upper bound in a race, e.g. a process that must exit. */
export async function deadline(ms: number): Promise<'deadline'> {
  await pause(ms);
  return 'deadline';
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
