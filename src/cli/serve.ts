/** `berth serve [--config FILE]`: load the config, start the registry, stop gracefully on SIGTERM/SIGINT. */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.ts';
import { ConfigError } from '../config/errors.ts';
import { createLogger, startRegistry } from '../main.ts';

export async function serve(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' } }, allowPositionals: false });
  const file = values.config ?? process.env['REGISTRY_CONFIGURATION_PATH'];
  let loaded;
  try {
    loaded = loadConfig({ file, env: process.env });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`berth: invalid configuration\n${err.message}\n`);
      return 78;
    }
    throw err;
  }
  const { config, warnings } = loaded;
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
  });
  return 0;
}
