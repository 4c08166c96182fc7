/**
 * docs/configuration.md, the one reference page for the configuration: every key with its type,
 * default, environment variable and description, the keys of distribution's format that berth
 * ignores and why, and the example config. Generated from the schema (reference.ts), docs.ts,
 * secrets.ts and ignored.ts by `npm run docs:config`; docs.test.ts fails when the file in the
 * repository differs from what this produces.
 */
import { stringify } from 'yaml';
import { KEY_DOCS, keyDescription } from './docs.ts';
import { CONFIG_PATH_VARIABLE, LEGACY_CONFIG_PATH_VARIABLE, LEGACY_PROFILE_VARIABLE, PROFILE_VARIABLE } from './env.ts';
import { exampleConfigYaml } from './example.ts';
import { IGNORED_KEYS, UNSUPPORTED_DRIVERS } from './ignored.ts';
import { configReference, flattenReference, type KeyRef } from './reference.ts';
import { SECRET_KEYS } from './secrets.ts';

export const DOCS_PATH = 'docs/configuration.md';

const INTRO = `# Configuration reference

berth reads one YAML file in the format of distribution's \`config.yml\` (version 0.1): a config
written for \`registry:2\` starts berth unchanged. Keys of that format that berth does not implement
are reported at start-up, once each with their path, and ignored ([list](#ignored-keys)); a key
that is neither berth's nor distribution's is warned about and ignored too. Anything invalid stops
start-up with the key's path, the reason and the line in the file.

## Where settings come from

Lowest precedence first:

1. the defaults below;
2. the config file: \`--config FILE\`, else \`$${CONFIG_PATH_VARIABLE}\`, else
   \`$${LEGACY_CONFIG_PATH_VARIABLE}\` (the docker-registry image's name, with a notice); with none,
   defaults and the environment only;
3. the selected profile of the file's \`profiles:\` map (see [Profiles](#profiles));
4. \`REGISTRY_*\` environment variables: \`REGISTRY_\` and the key's path in capitals joined by
   \`_\` (\`REGISTRY_HTTP_ADDR=:5001\`, \`REGISTRY_STORAGE_DELETE_ENABLED=false\`), the value read
   as the key's type (a YAML list or mapping for those). Naming a storage driver
   (\`REGISTRY_STORAGE=inmemory\`, \`REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=/srv\`) replaces the
   file's driver. A \`REGISTRY_*\` variable that names no key (such as skopeo's
   \`REGISTRY_AUTH_FILE\`) is warned about and ignored. Just below them, the docker-registry
   image's storage variables (see [Tutorial variables](#tutorial-variables));
5. command-line flags.

A value written \`_env:VAR\` or \`_env:VAR:DEFAULT\` anywhere in the file (common settings or a
profile) is replaced by that environment variable, or the default when it is unset; it resolves
where it is written, so it has that place's precedence.

## Profiles

A top-level \`profiles:\` map holds named partial configurations (same keys as the file), merged
key by key over the file's common settings when selected with \`--profile NAME\` or
\`${PROFILE_VARIABLE}=NAME\`. A profile that names a storage driver replaces the common one. Naming
a profile the file does not define is an error listing the profiles it does, except \`s3\` and
\`local\`, which are built in (see below).
\`${LEGACY_PROFILE_VARIABLE}\`, which chose the config template in the docker-registry image's tutorials,
is read as \`${PROFILE_VARIABLE}\` when neither that nor \`--profile\` is given, with a notice.

\`\`\`yaml
storage:
  filesystem:
    rootdirectory: /var/lib/berth
profiles:
  dev:
    log: { level: debug }
    storage: { inmemory: {} }
\`\`\`

## Tutorial variables

The docker-registry (v1) image's tutorials chose storage with environment variables; berth reads
them, each with a one-line notice naming berth's own variable (the key and secret are named,
never shown):

\`\`\`sh
SETTINGS_FLAVOR=s3 AWS_BUCKET=b AWS_KEY=k AWS_SECRET=s AWS_REGION=eu-west-1 \\
  REGISTRY_META_SQLITE_PATH=/var/lib/berth/berth.db berth serve
\`\`\`

- \`AWS_BUCKET\`, \`AWS_KEY\`, \`AWS_SECRET\`, \`AWS_REGION\`, \`STORAGE_PATH\` set \`storage.s3\`'s
  \`bucket\`, \`accesskey\`, \`secretkey\`, \`region\` and \`rootdirectory\`, only when
  \`AWS_BUCKET\` is set; then they select the s3 driver over the file's. \`REGISTRY_STORAGE_S3_*\`
  beat them key by key; a \`REGISTRY_*\` variable naming another driver is an error. With no
  region anywhere it is \`us-east-1\`; with no key and secret, the AWS SDK's own credential chain
  (\`AWS_ACCESS_KEY_ID\`, \`~/.aws\`, an instance role). Without \`AWS_BUCKET\`, \`AWS_KEY\`,
  \`AWS_SECRET\` and \`STORAGE_PATH\` are ignored with a notice, and \`AWS_REGION\` silently.
- The metadata still needs a place: \`meta.sqlite.path\` (a volume) or \`database.enabled\`.
- Profiles \`s3\` and \`local\` (the tutorials' flavors) are built in when the file defines none
  of that name: \`local\` is the filesystem driver, at \`STORAGE_PATH\` when it is set; \`s3\`
  requires S3 storage from \`AWS_BUCKET\`, \`REGISTRY_STORAGE_S3_*\` or the file, and fails
  without it.

## Commands

- \`berth config check [--config FILE] [--profile NAME]\` validates the configuration and prints the
  effective one as YAML (secrets masked), then the warnings; it exits 0 when valid and 78
  (EX_CONFIG) with every problem on standard error when not.
- \`berth config example\` prints the commented example config shown [below](#example).
`;

export function configurationMarkdown(): string {
  const refs = configReference();
  const sections = refs.map((top) => {
    // A section's heading and paragraph describe it; its table lists what is inside.
    const rows = (top.kind === 'value' ? [top] : flattenReference(top.children)).map(row);
    const env = top.kind !== 'value' && top.env !== undefined ? ` Environment: \`${top.env}\`, \`${top.env}_*\`.` : '';
    return [`### \`${top.name}\``, '', keyDescription(top.path) + env, '', HEADER, ...rows].join('\n');
  });
  const secrets = SECRET_KEYS.map((path) => `- \`${path}\``);
  const ignored = [...IGNORED_KEYS].map(([path, why]) => `| \`${path}\` | ${cell(why)} |`);
  return [
    `<!-- Generated by \`npm run docs:config\` from src/config/schema.ts and docs.ts; do not edit. -->`,
    INTRO.trimEnd(),
    '## Keys',
    'Types: a `duration` is Go\'s form (`168h`, `1h30m`, `90s`, `500ms`; no days); an `address` is `host:port`, ' +
      '`:port` or `[ipv6]:port`. Keys of list items (`[]`) have no variable of their own: set the whole list, ' +
      'e.g. `REGISTRY_NOTIFICATIONS_ENDPOINTS` as a YAML list.',
    ...sections,
    '## Secrets',
    'These values are masked wherever berth prints configuration (inside a mapping or list, every value):',
    secrets.join('\n'),
    '## Ignored keys',
    "Keys of distribution's format that berth accepts without acting on them; each one set is reported at start-up.",
    ['| Key | Why |', '| --- | --- |', ...ignored].join('\n'),
    `A storage driver berth does not have (${[...UNSUPPORTED_DRIVERS].map((d) => `\`${d}\``).join(', ')}) is an error, ` +
      'not ignored: ignoring it would put the images somewhere the operator did not ask for.',
    '## Example',
    'The output of `berth config example`:',
    ['```yaml', exampleConfigYaml().trimEnd(), '```'].join('\n'),
  ].join('\n\n') + '\n';
}

const HEADER = '| Key | Type | Default | Environment | Description |\n| --- | --- | --- | --- | --- |';

function row(ref: KeyRef): string {
  const env = ref.env === undefined ? '—' : `\`${ref.env}\`${ref.map ? `, \`${ref.env}_<NAME>\`` : ''}`;
  return `| \`${ref.path}\` | ${cell(ref.type)} | ${defaultText(ref)} | ${env} | ${cell(keyDescription(ref.path))} |`;
}

function defaultText(ref: KeyRef): string {
  const documented = KEY_DOCS[ref.path]?.default;
  if (documented !== undefined) return cell(documented);
  if (ref.kind !== 'value') return ref.required ? 'required' : '';
  if (ref.hasDefault) return cell(`\`${stringify(ref.default, { collectionStyle: 'flow', lineWidth: 0 }).trimEnd()}\``);
  return ref.required ? 'required' : '(unset)';
}

/** Text safe inside a Markdown table cell. */
function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}
