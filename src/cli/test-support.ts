/** For tests of the commands: `berth ARGV` run in this process, its output captured. */
import { Readable } from 'node:stream';
import type { CliIO } from './command.ts';
import { runCli } from './index.ts';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `berth ARGV` with `env` as its whole environment and `input` on its standard input. */
export async function runBerth(argv: string[], env: NodeJS.ProcessEnv = {}, input = ''): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    stdin: Readable.from([input]),
    env,
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}
