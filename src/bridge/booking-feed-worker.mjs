// Entry of a booking-feed worker when the service runs from its TypeScript sources (tsx, vitest):
// loader hooks are per thread, so each worker registers tsx itself before loading the task. A
// compiled build loads dist/bridge/booking-feed-worker.js instead.
import { register } from 'tsx/esm/api';

register();
const { default: handler } = await import('./booking-feed-worker.ts');
export default handler;
