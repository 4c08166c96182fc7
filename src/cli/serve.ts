/** `berth serve [--config FILE] [--profile NAME]`: load the config, start the registry, stop gracefully on SIGTERM/SIGINT. */
import type { Logger } from 'pino';
import type { RunningRegistry } from '../main.ts';
import { parseCommandLine } from './args.ts';
import type { CliIO, Command } from './command.ts';
import { CONFIG_HELP, CONFIG_OPTIONS, loadCliConfig } from './config-options.ts';

const USAGE = `usage: berth serve [--config FILE] [--profile NAME]

Start the registry (default: 0.0.0.0:5000, data in ./data). SIGTERM or SIGINT stop it gracefully;
SIGHUP reloads what can change live (the log level, notification endpoints).

${CONFIG_HELP}`;

type ConfigValues = { config?: string; profile?: string };

/**
 * SIGHUP: read the config again and apply what can change live (the log level, notification
 * endpoints). A config that no longer loads is reported and the running one kept.
 */
async function reload(running: RunningRegistry, values: ConfigValues, io: CliIO, log: Logger): Promise<void> {
  try {
    const { config, file } = await loadCliConfig(values, io);
    await running.reload(config);
    log.info({ config: file }, 'configuration reloaded');
  } catch (err) {
    log.error({ err: err instanceof Error ? err.message : err }, 'configuration reload failed; keeping the running configuration');
  }
}

export const serve: Command = {
  usage: USAGE,
  async run(argv, io) {
    const { values } = parseCommandLine(argv, CONFIG_OPTIONS);
    const { config, file, warnings } = await loadCliConfig(values, io);
    // The server (HTTP, metrics, auth, the UI) is loaded only to serve.
    const { createLogger, startRegistry } = await import('../main.ts');
    const log = createLogger(config);
    for (const w of warnings) log.warn({ config: file }, w);
    const running = await startRegistry(config, log);
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        log.info({ signal }, 'shutting down');
        running.close().then(resolve, (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          resolve();
        });
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
      process.on('SIGHUP', () => void reload(running, values, io, log));
    });
    return 0;
  },
};
