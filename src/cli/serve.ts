/** `berth serve [--config FILE] [--profile NAME]`: load the config, start the registry, stop gracefully on SIGTERM/SIGINT. */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.ts';
import { ConfigError } from '../config/errors.ts';
import type { Logger } from 'pino';
import { createLogger, startRegistry, type RunningRegistry } from '../main.ts';

/**
 * SIGHUP: read the config again and apply what can change live (the log level, notification
 * endpoints). A config that no longer loads is reported and the running one kept.
 */
async function reload(running: RunningRegistry, file: string | undefined, log: Logger, profile?: string): Promise<void> {
  try {
    const { config } = loadConfig({ file, profile, env: process.env });
    await running.reload(config);
    log.info({ config: file }, 'configuration reloaded');
  } catch (err) {
    log.error({ err: err instanceof ConfigError ? err.message : err }, 'configuration reload failed; keeping the running configuration');
  }
}

export async function serve(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' }, profile: { type: 'string' } }, allowPositionals: false });
  let loaded;
  try {
    loaded = loadConfig({ file: values.config, profile: values.profile, env: process.env });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`berth: invalid configuration\n${err.message}\n`);
      return 78;
    }
    throw err;
  }
  const { config, file, warnings } = loaded;
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
    process.on('SIGHUP', () => void reload(running, file, log, values.profile));
  });
  return 0;
}
