/**
 * ScheduledJob (src/bridge/scheduled-job.ts, issue 22): a node-cron run that did not happen (node-cron
 * 4 skips an execution it could not start on time: a late loop, a paused process, a clock jump)
 * runs late, once for however many instants went by, and is counted. The clock is injected and
 * set to New Year's Eve, so the real node-cron timer (on the machine's time) never fires during
 * the test: what runs is the guard's doing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ScheduledJob } from '../../src/bridge/scheduled-job.js';
import { ManualClock } from '../../src/domain/clock.js';
import { waitFor } from '../helpers/mqtt-contract.js';

const jobs: ScheduledJob[] = [];
afterEach(async () => {
  await Promise.all(jobs.splice(0).map((job) => job.stop()));
});

function job(expression: string, clock: ManualClock, run: () => Promise<void>) {
  const warnings: object[] = [];
  const errors: object[] = [];
  const scheduled = new ScheduledJob({
    expression,
    name: 'test-job',
    run,
    clock,
    graceMs: 30_000,
    logger: { warn: (obj) => warnings.push(obj), error: (obj) => errors.push(obj) },
  });
  jobs.push(scheduled);
  scheduled.start();
  return { scheduled, warnings, errors };
}

describe('ScheduledJob catch-up guard', () => {
  it('runs a missed instant late once it is past the grace, and only once', async () => {
    const clock = new ManualClock(Date.parse('2026-12-31T23:58:00Z'));
    let runs = 0;
    const { scheduled, warnings } = job('0 0 1 1 *', clock, async () => {
      runs += 1;
    });
    expect(scheduled.check()).toBe(false);
    clock.set('2027-01-01T00:00:30Z');
    expect(scheduled.check()).toBe(false); // within the grace: node-cron may still be on its way
    clock.set('2027-01-01T00:00:31Z');
    expect(scheduled.check()).toBe(true);
    await scheduled.stop();
    expect(runs).toBe(1);
    expect(scheduled.stats()).toEqual({ name: 'test-job', onTime: 0, late: 1, missed: 1 });
    expect(warnings).toEqual([
      { job: 'test-job', missed: 1, first_missed_at: '2027-01-01T00:00:00.000Z', late_by_s: 31 },
    ]);
    expect(scheduled.check()).toBe(false);
  });

  it('collapses several missed instants (a paused process) into one late run, counting each', async () => {
    const clock = new ManualClock(Date.parse('2026-12-31T23:58:00Z'));
    let runs = 0;
    const { scheduled } = job('*/5 0 1 1 *', clock, async () => {
      runs += 1;
    });
    clock.set('2027-01-01T00:21:00Z'); // 00:00, 00:05, 00:10, 00:15 and 00:20 went by
    expect(scheduled.check()).toBe(true);
    expect(scheduled.check()).toBe(false);
    clock.set('2027-01-01T00:25:20Z'); // 00:25 is due, within the grace
    expect(scheduled.check()).toBe(false);
    clock.set('2027-01-01T00:26:00Z');
    expect(scheduled.check()).toBe(true);
    await waitFor(() => runs === 2, { what: 'the second late run' });
    await scheduled.stop();
    expect(runs).toBe(2);
    expect(scheduled.stats()).toEqual({ name: 'test-job', onTime: 0, late: 2, missed: 6 });
  });

  it('logs a failing late run and keeps guarding', async () => {
    const clock = new ManualClock(Date.parse('2026-12-31T23:58:00Z'));
    const { scheduled, errors } = job('0 0 1 1 *', clock, async () => {
      throw new Error('SORTIE unreachable');
    });
    clock.set('2027-01-01T00:01:00Z');
    expect(scheduled.check()).toBe(true);
    await scheduled.stop();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ job: 'test-job', err: { message: 'SORTIE unreachable' } });
  });

  it('reads six-field expressions (seconds first) a second apart', async () => {
    const clock = new ManualClock(Date.parse('2026-12-31T23:59:58Z'));
    let runs = 0;
    const { scheduled } = job('*/10 0 0 1 1 *', clock, async () => {
      runs += 1;
    });
    clock.set('2027-01-01T00:00:51Z'); // :00 to :50 went by, :30 to :50 within the grace: one late run
    expect(scheduled.check()).toBe(true);
    await scheduled.stop();
    expect(runs).toBe(1);
    expect(scheduled.stats()).toMatchObject({ late: 1, missed: 6 });
  });
});
