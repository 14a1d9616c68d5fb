// Entry of a view worker when the service runs from its TypeScript sources (bin/scope-energie.js
// through tsx, or vitest): loader hooks are per thread, so each worker registers tsx itself before
// loading the task. A compiled build (`npm run build`) loads dist/scope/vue/view-worker.js instead.
import { register } from 'tsx/esm/api';

register();
const { default: handler } = await import('./view-worker.ts');
export default handler;
