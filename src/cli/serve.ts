import { createLogger } from '../log/logger.js';
import { startService } from '../service.js';
import { type Command, EXIT } from './command.js';
import { loadCommandConfig } from './context.js';
import { exitFatally, installProcessGuards, stopWithin } from './process-guards.js';

/** After a clean stop, the time left to open handles before the process is ended anyway. */
const LINGER_AFTER_STOP_MS = 1_000;

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the service (hub, bridge, embedded broker) until interrupted',
  help: `Usage: scope-energie serve [--port N]

Runs the SCOPE hub (ENTRÉE, SORTIE, VUE) and the energy bridge with the configuration in
config/ (default.yaml, then local.yaml, then SCOPE_ENERGIE_* variables). On first start it
creates the data directory, the database, an admin client and the demo lycée 0670999X with its
demo clients; their tokens are written once to <data>/initial-credentials.txt.

Options:
  --port N       HTTP port (overrides server.port)`,
  options: { port: { type: 'string' } },
  async run(args, io) {
    const env = { ...io.env };
    if (typeof args.values['port'] === 'string') env['SCOPE_ENERGIE_SERVER__PORT'] = args.values['port'];
    const context = loadCommandConfig(args, { ...io, env });
    const logger = createLogger(context.config.log.level);
    const guards = installProcessGuards(logger);
    const service = await startService({ config: context.config, logger, baseDir: context.baseDir });
    io.stderr.write(`scope-energie listening on ${service.url} (Ctrl-C to stop)\n`);
    if (service.credentialsFile)
      io.stderr.write(`first start: tokens of the generated clients are in ${service.credentialsFile}\n`);
    const stopTimeoutMs = context.config.server.stop_timeout_s * 1000;
    const signal = await new Promise<NodeJS.Signals>((done) => {
      const stop = (name: NodeJS.Signals) => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        done(name);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    logger.info({ signal, timeout_s: context.config.server.stop_timeout_s }, 'stopping');
    // Leases first (the others take the schools over at their next renewal), then offline, then close.
    if ((await stopWithin(logger, () => service.stop(), stopTimeoutMs)) === 'timeout') {
      exitFatally(logger, 'stop did not finish within server.stop_timeout_s: exiting anyway', {
        timeout_s: context.config.server.stop_timeout_s,
      });
    }
    guards.remove();
    // Stopped: whatever a library still holds open must not keep the process alive.
    setTimeout(() => {
      logger.warn(
        { handles: process.getActiveResourcesInfo() },
        'handles still open after the stop: exiting anyway',
      );
      process.exit(EXIT.ok);
    }, LINGER_AFTER_STOP_MS).unref();
    return EXIT.ok;
  },
};
