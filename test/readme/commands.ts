/**
 * The README's commands as one bash script, so that a test runs every one of them in order, as a
 * newcomer would: each ```sh block of README.md, line by line (a trailing `\` joins lines), against
 * a registry started by the README's own start command.
 *
 * A command runs as written, but for a few rewrites a test machine needs: the registry's address
 * 127.0.0.1:5000 becomes the test's port, other addresses and /srv paths become the test's own,
 * and commands that serve start in the background until they answer. A command the test does not
 * run must be named in RULES with the reason; a README command that no rule names is run, so a new
 * one is never left out silently.
 */

/** One command of the README: its text and the README line it starts on. */
export interface Command {
  line: number;
  text: string;
}

/** What the test does with a command: its rewrite, its stdin, or why it is not run. */
export interface Rule {
  match: RegExp;
  /** Not run, and why (another step of CI runs it, or it cannot run inside a test). */
  skip?: string;
  /** Serves until stopped: 'main' is the registry the following commands use, 'probe' is started, checked and stopped. */
  serve?: 'main' | 'probe';
  /** Run this instead (the README's line does more than a test can, e.g. `npm ci` before `npm start`). */
  run?: string;
  /** Why the command is rewritten. */
  why?: string;
  /** A bash word whose value is the command's stdin (a prompt answered by a pipe, as a person types it). */
  stdin?: string;
  /** A regular expression (grep -E) the command's stdout must match. */
  expect?: string;
}

export const RULES: Rule[] = [
  { match: /^npm ci$/, skip: '.ci/run ran it on this clone before npm test' },
  { match: /^npm link$/, why: 'run as written; npm_config_prefix points it at a global prefix of the test\'s own, whose bin/ is on PATH' },
  { match: /^npm start$/, serve: 'main' },
  { match: /^npm test$/, skip: 'this is the run that npm test is making' },
  { match: /^npm run typecheck$/, skip: 'npm test runs it first' },
  { match: /^npm run lint$/, skip: '.ci/run runs it before npm test' },
  { match: /^npm run bench(:ui)?$/, skip: 'a benchmark of minutes beside distribution and nginx, not a test' },
  { match: /^npm run docs:config$/, skip: 'it rewrites docs/configuration.md; src/config/docs.test.ts fails when that file differs from what it would write' },
  { match: /^deploy\/build-image\.sh\b/, skip: 'test/image/image.test.ts builds the image with it (a minute or two) and runs it' },
  { match: /^mkdir -p \/srv\/berth && chown 10001/, skip: 'test/image/image.test.ts gives its volume directory to uid 10001' },
  { match: /^docker (run|exec) .*berth\b/, skip: 'test/image/image.test.ts runs the image with podman, -p and -v as here, and berth user add in it through podman exec (this dockerd has no bridge network to publish a port)' },
  { match: /^REGISTRY_HTTP_ADDR=127\.0\.0\.1:5001 BERTH_PG_URL=\S+ berth serve --config deploy\/cluster\/berth\.yml$/, skip: 'test/cluster/cluster.test.ts starts three nodes on this file, with PostgreSQL and Ceph RGW' },
  { match: /^nginx -p "\$PWD\/deploy\/cluster\/" -c nginx\.conf$/, skip: 'test/cluster/cluster.test.ts runs nginx on this file, its upstreams and port rewritten to the test\'s' },
  { match: /^berth migrate --to cluster\.yml\b/, skip: 'test/e2e/migrate.test.ts migrates a serving registry into PostgreSQL and Ceph RGW with berth migrate' },
  { match: /(^|\s)berth serve\b/, serve: 'probe' },
  { match: /^berth user add alice$/, stdin: '"$PASSWORD"$\'\\n\'"$PASSWORD"', why: 'the two lines a person types at the prompt' },
  { match: /^berth user add bob$/, stdin: '"$BOB_PASSWORD"$\'\\n\'"$BOB_PASSWORD"', why: 'the two lines a person types at the prompt' },
  { match: /^curl '?http:\/\/127\.0\.0\.1:5000\/v2\/_catalog/, expect: '"alice/app"' },
];

/** The commands of every ```sh block, in order. */
export function readmeCommands(readme: string): Command[] {
  const commands: Command[] = [];
  let inBlock = false;
  let pending: Command | undefined;
  readme.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (!inBlock) {
      inBlock = /^```(sh|bash|shell)$/.test(line);
      return;
    }
    if (line === '```') {
      inBlock = false;
      return;
    }
    const text = pending === undefined ? line.trim() : `${pending.text} ${line.trim()}`;
    const start = pending?.line ?? i + 1;
    if (text.endsWith('\\')) {
      pending = { line: start, text: text.slice(0, -1).trimEnd() };
      return;
    }
    pending = undefined;
    const command = stripComment(text);
    if (command !== '') commands.push({ line: start, text: command });
  });
  return commands;
}

/** The blocks of another language (```yaml, ```json), with the README line each starts on. */
export function readmeBlocks(readme: string, language: string): Command[] {
  const blocks: Command[] = [];
  const lines = readme.split('\n');
  lines.forEach((line, i) => {
    if (line.trimEnd() !== `\`\`\`${language}`) return;
    const end = lines.findIndex((l, j) => j > i && l.trimEnd() === '```');
    blocks.push({ line: i + 1, text: lines.slice(i + 1, end).join('\n') });
  });
  return blocks;
}

/** The command without a trailing `# comment` (a `#` inside quotes or a word is not a comment). */
export function stripComment(text: string): string {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote !== undefined) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '\\') {
      i++;
    } else if (c === '#' && (i === 0 || /\s/.test(text[i - 1] ?? ''))) {
      return text.slice(0, i).trimEnd();
    }
  }
  return text;
}

/** The first rule that matches a command. */
export function ruleFor(command: Command): Rule | undefined {
  return RULES.find((r) => r.match.test(command.text));
}

/** Where the README's examples point, and where the test points them instead. */
export interface Places {
  /** The registry's port, for 127.0.0.1:5000. */
  port: number;
  /** A port for the commands that start another server (127.0.0.1:5055 in the README). */
  probePort: number;
  /** A directory for /srv/... paths. */
  srv: string;
}

/** The command with the README's addresses and paths moved to the test's. */
export function relocate(text: string, places: Places): string {
  return text
    .replaceAll('127.0.0.1:5000', `127.0.0.1:${places.port}`)
    .replaceAll('127.0.0.1:5055', `127.0.0.1:${places.probePort}`)
    .replace(/(^|[\s=:])\/srv\//g, `$1${places.srv}/`);
}

/** bash-quoted. */
export function quote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

/**
 * The script: a prologue with helpers (curl fails on an HTTP error, as a person reading the
 * answer would see it; servers are waited for), then each command, named by its README line
 * before it runs, so a failure says which line broke.
 */
export function buildScript(commands: Command[], places: Places): { script: string; skipped: Array<Command & { why: string }> } {
  const skipped: Array<Command & { why: string }> = [];
  const out = [
    'set -euo pipefail',
    "trap 'echo \"README line $README_LINE failed: $README_COMMAND\" >&2' ERR",
    'curl() { command curl --fail-with-body --silent --show-error "$@"; }',
    // Waits until the server with pid $1 answers on port $2, or fails when it exits first.
    'await_server() { for _ in $(seq 1 600); do kill -0 "$1" 2>/dev/null || { echo "server exited before answering" >&2; return 1; }; command curl -s -o /dev/null "http://127.0.0.1:$2/v2/" && return 0; sleep 0.1; done; echo "no answer on port $2" >&2; return 1; }',
    'MAIN_PID=',
    "trap '[ -z \"$MAIN_PID\" ] || kill -TERM -- -\"$MAIN_PID\" 2>/dev/null || true' EXIT",
    'set -m', // background jobs get process groups of their own, so a server and its children stop together
  ];
  for (const command of commands) {
    const rule = ruleFor(command);
    if (rule?.skip !== undefined) {
      skipped.push({ ...command, why: rule.skip });
      continue;
    }
    const relocated = relocate(rule?.run ?? command.text, places);
    // npm's commands run in the clone, the others where the reader's files are
    const text = relocated.startsWith('npm ') ? `(cd "$REPO_ROOT" && ${relocated})` : relocated;
    out.push(`README_LINE=${command.line}; README_COMMAND=${quote(command.text)}`, `echo "+ README:${command.line}: $README_COMMAND" >&2`);
    if (rule?.serve === 'main') {
      out.push(`${text} > "$SERVER_LOG" 2>&1 &`, 'MAIN_PID=$!', `await_server "$MAIN_PID" ${places.port}`);
    } else if (rule?.serve === 'probe') {
      // Another server beside the main one: its own port and data unless the line names them.
      out.push(
        `(export REGISTRY_HTTP_ADDR=127.0.0.1:${places.probePort} REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY="$PROBE_ROOT"; ${text}) >> "$PROBE_LOG" 2>&1 &`,
        'PROBE_PID=$!',
        `await_server "$PROBE_PID" ${places.probePort}`,
        'kill -TERM -- -"$PROBE_PID"',
        'wait "$PROBE_PID"',
      );
    } else if (rule?.expect !== undefined) {
      out.push(`OUT=$(${text})`, 'printf "%s\\n" "$OUT"', `grep -Eq ${quote(rule.expect)} <<<"$OUT" || { echo "expected ${rule.expect.replaceAll('"', '\\"')} in the output" >&2; false; }`);
    } else if (rule?.stdin !== undefined) {
      out.push(`${text} <<<${rule.stdin}`);
    } else {
      out.push(text);
    }
  }
  return { script: `${out.join('\n')}\n`, skipped };
}
