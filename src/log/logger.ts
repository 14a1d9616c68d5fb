/** pino JSON logs on stderr (stdout stays free for `--json` output of CLI commands). */
import { pino } from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string, destination: NodeJS.WritableStream = process.stderr): Logger {
  return pino({ level, base: { service: 'scope-energie' } }, destination as pino.DestinationStream);
}
