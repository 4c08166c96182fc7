/** The README's commands are read as bash would: comments, continuations, quotes; rules and rewrites apply as documented. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildScript, readmeBlocks, readmeCommands, relocate, stripComment } from './commands.ts';

const README = [
  'text',
  '```sh',
  'berth serve        # defaults',
  '# a comment line',
  '',
  "curl -u a:b -X POST http://127.0.0.1:5000/api \\",
  "  -H 'Content-Type: application/json' \\",
  '  -d \'{"d":"# not a comment"}\'',
  'npm test',
  '```',
  '```yaml',
  'version: "0.1"',
  '```',
  '```sh',
  'echo a#b "#c" # gone',
  '```',
].join('\n');

describe('README commands', () => {
  it('reads each command of the sh blocks with its line, joining continuations and dropping comments', () => {
    assert.deepEqual(readmeCommands(README), [
      { line: 3, text: 'berth serve' },
      { line: 6, text: "curl -u a:b -X POST http://127.0.0.1:5000/api -H 'Content-Type: application/json' -d '{\"d\":\"# not a comment\"}'" },
      { line: 9, text: 'npm test' },
      { line: 15, text: 'echo a#b "#c"' },
    ]);
    assert.deepEqual(readmeBlocks(README, 'yaml'), [{ line: 11, text: 'version: "0.1"' }]);
  });

  it('keeps a # inside quotes or a word, and escaped', () => {
    assert.equal(stripComment("echo '# x' \\# y # z"), "echo '# x' \\# y");
    assert.equal(stripComment('echo "a \\" # b" # c'), 'echo "a \\" # b"');
  });

  it('moves the README addresses and /srv paths to the test\'s', () => {
    const places = { port: 4100, probePort: 4200, srv: '/tmp/x/srv' };
    assert.equal(relocate('REGISTRY_HTTP_ADDR=127.0.0.1:5055 ROOT=/srv/berth curl 127.0.0.1:5000/v2/ -v /srv/b:/data', places), 'REGISTRY_HTTP_ADDR=127.0.0.1:4200 ROOT=/tmp/x/srv/berth curl 127.0.0.1:4100/v2/ -v /tmp/x/srv/b:/data');
  });

  it('serves in the background, skips with a reason, and names each line before it runs', () => {
    const { script, skipped } = buildScript(readmeCommands(README), { port: 4100, probePort: 4200, srv: '/s' });
    assert.deepEqual(skipped.map((s) => [s.line, s.why]), [[9, 'this is the run that npm test is making']]);
    assert.match(script, /README_LINE=3;[^\n]*\n[^\n]*\n\(export REGISTRY_HTTP_ADDR=127\.0\.0\.1:4200 [^\n]*berth serve\) >> "\$PROBE_LOG" 2>&1 &\n/);
    assert.match(script, /curl -u a:b -X POST http:\/\/127\.0\.0\.1:4100\/api/);
    assert.doesNotMatch(script, /npm test/);
  });
});
