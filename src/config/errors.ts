/**
 * ConfigError: the one error a bad configuration produces. It lists every problem found, each
 * as `<key.path>: <reason>` with where the value came from (file line or environment variable),
 * so an operator can fix them all in one go instead of one restart per mistake.
 */

export interface ConfigProblem {
  /** Dotted key path, e.g. "http.addr"; '' when the problem is with the file as a whole. */
  path: string;
  reason: string;
  /** Position in the config file of the key (1-based), when the value came from the file. */
  line?: number;
  column?: number;
  /** Where the value came from when not (only) the file: an environment variable or "overrides". */
  source?: string;
}

export class ConfigError extends Error {
  readonly code = 'BERTH_CONFIG_INVALID';
  readonly problems: readonly ConfigProblem[];
  /** The config file, if one was read. */
  readonly file: string | undefined;

  constructor(problems: readonly ConfigProblem[], file?: string) {
    super(formatMessage(problems, file));
    this.name = 'ConfigError';
    this.problems = problems;
    this.file = file;
  }
}

/** One problem as a line of text: `http.addr: port 99999 is out of range 0-65535 (line 4)`. */
export function formatProblem(problem: ConfigProblem, file?: string): string {
  if (problem.path === '') {
    const where = [file ?? '(config)', problem.line, problem.column].filter((part) => part !== undefined);
    return `${where.join(':')}: ${problem.reason}`;
  }
  const origins: string[] = [];
  if (problem.line !== undefined) origins.push(`line ${problem.line}`);
  if (problem.source !== undefined) origins.push(`from ${problem.source}`);
  const suffix = origins.length > 0 ? ` (${origins.join(', ')})` : '';
  return `${problem.path}: ${problem.reason}${suffix}`;
}

function formatMessage(problems: readonly ConfigProblem[], file?: string): string {
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  const header = `invalid configuration${file !== undefined ? ` in ${file}` : ''} (${count}):`;
  return [header, ...problems.map((problem) => `  ${formatProblem(problem, file)}`)].join('\n');
}
