/**
 * `berth config example`: a commented config file with every key, generated from the schema
 * (reference.ts) and the descriptions (docs.ts), so it cannot drift from either. Each key is
 * preceded by its description; keys with a default show it; keys without one are commented out
 * with an example value, as are optional sections (another storage driver, notifications).
 *
 * A commented-out block is the active rendering with "# " put after its indentation, so
 * uncommenting it gives valid YAML again. The file as printed loads with no warnings and yields
 * exactly the defaults.
 */
import { stringify } from 'yaml';
import { KEY_DOCS, PROFILES_EXAMPLE, keyDescription } from './docs.ts';
import { PROFILE_VARIABLE } from './env.ts';
import { PROFILES_KEY } from './profiles.ts';
import { configReference, type KeyRef } from './reference.ts';

const WIDTH = 100;

export interface ExampleOptions {
  /**
   * Whether the key at `path` is rendered uncommented, given whether it is by default; for tests
   * that check every example loads. `profiles` stands for the profiles example.
   */
  active?: (path: string, byDefault: boolean) => boolean;
}

export function exampleConfigYaml(opts: ExampleOptions = {}): string {
  const active = opts.active ?? ((_path: string, byDefault: boolean) => byDefault);
  const header = [
    'berth configuration example: every key, with its default where it has one; keys without a',
    'default and optional sections are commented out. Generated from the schema (npm run docs:config;',
    'reference: docs/configuration.md). Any key can also be set from the environment: REGISTRY_ and',
    'its path in capitals joined by "_", e.g. REGISTRY_HTTP_ADDR.',
  ].map((line) => `# ${line}`);
  const sections = configReference().map((ref) => renderKey(ref, '', active).join('\n'));
  const profiles = [
    ...comment(
      `Profiles: partial configurations merged over the settings above, chosen with --profile NAME or ${PROFILE_VARIABLE}=NAME.`,
      '',
    ),
    ...commentOut(stringify({ [PROFILES_KEY]: PROFILES_EXAMPLE }, { lineWidth: 0 }).trimEnd().split('\n'), '', active(PROFILES_KEY, false)),
  ];
  return `${[header.join('\n'), ...sections, profiles.join('\n')].join('\n\n')}\n`;
}

/** The key's description comment, then the key (commented out when not active). */
function renderKey(ref: KeyRef, indent: string, active: Required<ExampleOptions>['active']): string[] {
  const lines = comment(keyDescription(ref.path), indent);
  const key = `${indent}${ref.name}:`;
  switch (ref.kind) {
    case 'section': {
      const body =
        ref.children.length === 0
          ? [`${key} {}`]
          : [key, ...ref.children.flatMap((child) => renderKey(child, `${indent}  `, active))];
      return [...lines, ...commentOut(body, indent, active(ref.path, ref.hasDefault || ref.presentByDefault))];
    }
    case 'list': {
      // One example item; the list's default (empty) is kept unless the block is uncommented.
      const item = ref.children.flatMap((child) => renderKey(child, `${indent}    `, active));
      return [...lines, ...commentOut([key, `${indent}  -`, ...item], indent, active(ref.path, false))];
    }
    case 'value': {
      const example = KEY_DOCS[ref.path]?.example;
      if (ref.hasDefault) return [...lines, `${key} ${scalar(ref.default)}`];
      const line = example === undefined ? key : `${key} ${scalar(example)}`;
      return [...lines, ...commentOut([line], indent, active(ref.path, ref.required))];
    }
  }
}

function commentOut(lines: readonly string[], indent: string, active: boolean): string[] {
  return active ? [...lines] : lines.map((line) => `${indent}# ${line.slice(indent.length)}`);
}

/** A description as comment lines, wrapped to the width; backquotes (Markdown) dropped. */
function comment(text: string, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.replaceAll('`', '').split(/\s+/).filter(Boolean)) {
    if (line !== '' && indent.length + 2 + line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines.map((l) => `${indent}# ${l}`);
}

function scalar(value: unknown): string {
  return stringify(value, { collectionStyle: 'flow', lineWidth: 0 }).trimEnd();
}
