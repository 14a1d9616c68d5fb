/**
 * Child process of process-guards.test.ts: installs serve's process guards, then faults the way
 * a library bug would (a rejection nobody awaits, an exception thrown from a timer), then proves it
 * is still running; with `fatal` it ends through the one deliberate exit.
 */
import { exitFatally, installProcessGuards } from '../../src/cli/process-guards.js';
import { createLogger } from '../../src/log/logger.js';

const logger = createLogger('info');
installProcessGuards(logger);
if (process.argv[2] === 'fatal') exitFatally(logger, 'deliberate fatal for the test', { reason: 'test' });
void Promise.reject(new Error('a rejection nobody awaits'));
setTimeout(() => {
  throw new Error('thrown from a timer');
}, 10);
setTimeout(() => logger.info('still running after both faults'), 50);
