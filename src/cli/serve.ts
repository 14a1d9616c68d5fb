import { createLogger } from '../logger.js';
import { startService } from '../service.js';
import { type Command, EXIT } from './command.js';
import { loadCommandConfig } from './context.js';

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
    const service = await startService({ config: context.config, logger, baseDir: context.baseDir });
    io.stderr.write(`scope-energie listening on ${service.url} (Ctrl-C to stop)\n`);
    if (service.credentialsFile)
      io.stderr.write(`first start: tokens of the generated clients are in ${service.credentialsFile}\n`);
    await new Promise<void>((done) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        void service.stop().then(done, done);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    return EXIT.ok;
  },
};
