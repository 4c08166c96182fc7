/**
 * Every configuration key, read off the zod schema: its path, type, default and environment
 * variable. docs.ts adds a description to each; docs-page.ts and example.ts render the reference
 * page and the example config from the two, so neither can drift from the schema.
 *
 * Paths are dotted; the items of a list of mappings appear as `[]`
 * ("notifications.endpoints[].url"). Such item keys have no REGISTRY_* variable of their own:
 * the whole list is set at once (REGISTRY_NOTIFICATIONS_ENDPOINTS as a YAML list).
 */
import { z } from 'zod';
import { ENV_PREFIX } from './env.ts';
import { addrSchema, configSchema, durationSchema } from './schema.ts';
import { gcDurationSchema } from './gc-schema.ts';
import { isRecord } from './tree.ts';

export interface KeyRef {
  path: string;
  /** The last segment of the path. */
  name: string;
  /** `list`: a list of mappings, whose children describe one item. */
  kind: 'section' | 'list' | 'value';
  /** For people: "string", "duration", "boolean", "map of string", "list of string", "one of: a, b". */
  type: string;
  /** Whether the schema has a default (for a section: whether it is always present). */
  hasDefault: boolean;
  /** The default as written in a file (durations as "168h"); undefined without one. */
  default: unknown;
  /** Must be set wherever its parent is (no default, not optional). */
  required: boolean;
  /** Present when no file sets it (a section without a default of its own, such as the default storage driver). */
  presentByDefault: boolean;
  /** Free-form keys (http.headers): REGISTRY_<PATH>_<NAME> sets one entry. */
  map: boolean;
  /** The REGISTRY_* variable; undefined inside list items. */
  env: string | undefined;
  children: KeyRef[];
}

type AnySchema = z.core.$ZodType;

/** The top-level keys, each with its sub-keys, in schema order. */
export function configReference(): KeyRef[] {
  const defaults: unknown = configSchema.parse({});
  return objectKeys(configSchema, [], false, defaults);
}

/** Every key of `refs` and below, depth first (sections before their keys). */
export function flattenReference(refs: readonly KeyRef[]): KeyRef[] {
  return refs.flatMap((ref) => [ref, ...flattenReference(ref.children)]);
}

function objectKeys(schema: AnySchema, parent: readonly string[], inList: boolean, defaults: unknown): KeyRef[] {
  const object = unwrap(schema).node;
  if (!(object instanceof z.ZodObject)) return [];
  return Object.entries(object.shape as Record<string, AnySchema>).map(([name, field]) =>
    keyRef(name, field, parent, inList, isRecord(defaults) ? defaults[name] : undefined),
  );
}

function keyRef(name: string, schema: AnySchema, parent: readonly string[], inList: boolean, defaults: unknown): KeyRef {
  const segments = [...parent, name];
  const { node, hasDefault, defaultValue, optional } = unwrap(schema);
  const base = {
    path: segments.join('.'),
    name,
    hasDefault,
    default: hasDefault ? defaultValue : undefined,
    required: !hasDefault && !optional,
    presentByDefault: defaults !== undefined,
    map: node instanceof z.ZodRecord,
    env: inList ? undefined : ENV_PREFIX + segments.join('_').toUpperCase(),
  };
  if (node instanceof z.ZodObject) {
    return { ...base, kind: 'section', type: 'mapping', children: objectKeys(node, segments, inList, defaults) };
  }
  if (node instanceof z.ZodArray) {
    const element = unwrap(node.element as AnySchema).node;
    if (element instanceof z.ZodObject) {
      const item = [...parent, `${name}[]`];
      return { ...base, kind: 'list', type: 'list of mappings', children: objectKeys(element, item, true, undefined) };
    }
  }
  return { ...base, kind: 'value', type: typeName(node), children: [] };
}

interface Unwrapped {
  node: AnySchema;
  hasDefault: boolean;
  defaultValue: unknown;
  optional: boolean;
}

/** Looks through defaults, optionals and transforms to the schema that says what a file may hold. */
function unwrap(schema: AnySchema): Unwrapped {
  const out: Unwrapped = { node: schema, hasDefault: false, defaultValue: undefined, optional: false };
  for (;;) {
    const node = out.node;
    if (node === durationSchema || node === gcDurationSchema || node === addrSchema) return out;
    if (node instanceof z.ZodDefault || node instanceof z.ZodPrefault) {
      if (!out.hasDefault) {
        out.hasDefault = true;
        out.defaultValue = node.def.defaultValue;
      }
      out.node = node.unwrap() as AnySchema;
    } else if (node instanceof z.ZodOptional || node instanceof z.ZodNullable) {
      out.optional = true;
      out.node = node.unwrap() as AnySchema;
    } else if (node instanceof z.ZodPipe) {
      out.node = pipeSide(node);
    } else {
      return out;
    }
  }
}

/** A transform's input is opaque: describe what it feeds, or what feeds it; a pipe into a stricter schema, by that. */
function pipeSide(pipe: z.ZodPipe): AnySchema {
  if (pipe.in instanceof z.ZodTransform) return pipe.out as AnySchema;
  if (pipe.out instanceof z.ZodTransform) return pipe.in as AnySchema;
  return pipe.out as AnySchema;
}

function typeName(schema: AnySchema): string {
  const node = unwrap(schema).node;
  if (node === durationSchema || node === gcDurationSchema) return 'duration';
  if (node === addrSchema) return 'address';
  if (node instanceof z.ZodString) return 'string';
  if (node instanceof z.ZodBoolean) return 'boolean';
  if (node instanceof z.ZodNumber) return node.format === 'safeint' || node.format === 'int32' ? 'integer' : 'number';
  if (node instanceof z.ZodEnum) return `one of: ${node.options.join(', ')}`;
  if (node instanceof z.ZodRecord) return `map of ${typeName(node.valueType as AnySchema)}`;
  if (node instanceof z.ZodArray) {
    const element = typeName(node.element as AnySchema);
    return element.startsWith('one of') ? `list of (${element})` : `list of ${element}`;
  }
  if (node instanceof z.ZodObject) return 'mapping';
  return 'value';
}
