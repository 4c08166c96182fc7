/**
 * Turns the text of an environment variable (REGISTRY_* or `_env:VAR`) into a value of the
 * type the schema expects at that key, as distribution does by YAML-decoding the variable into
 * the typed field: "false" -> false, "8" -> 8, "[a, b]" -> ["a", "b"], "{...}" -> a mapping.
 * Strings are taken verbatim (no YAML unquoting), so secrets survive intact.
 */
import { parse } from 'yaml';
import { describeShape, type Shape } from './shape.ts';

export type Coerced = { ok: true; value: unknown } | { ok: false; reason: string };

const TRUE = /^(true|yes|on|1)$/i;
const FALSE = /^(false|no|off|0)$/i;
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

export function coerceText(text: string, shape: Shape): Coerced {
  const trimmed = text.trim();
  switch (shape.kind) {
    case 'string':
    case 'unknown':
      return { ok: true, value: text };
    case 'boolean':
      if (TRUE.test(trimmed)) return { ok: true, value: true };
      if (FALSE.test(trimmed)) return { ok: true, value: false };
      return mismatch(text, shape);
    case 'number':
      return NUMBER.test(trimmed) ? { ok: true, value: Number(trimmed) } : mismatch(text, shape);
    case 'array': {
      if (!trimmed.startsWith('[')) {
        const element = coerceText(text, shape.element);
        return element.ok ? { ok: true, value: [element.value] } : element;
      }
      const parsed = parseYaml(trimmed);
      if (!parsed.ok) return parsed;
      if (!Array.isArray(parsed.value)) return mismatch(text, shape);
      const items: unknown[] = [];
      for (const item of parsed.value) {
        const element = isScalar(item) ? coerceText(String(item), shape.element) : { ok: true as const, value: item };
        if (!element.ok) return element;
        items.push(element.value);
      }
      return { ok: true, value: items };
    }
    case 'object':
    case 'record': {
      if (trimmed === '') return { ok: true, value: {} };
      const parsed = parseYaml(trimmed);
      if (!parsed.ok) return parsed;
      if (parsed.value === null) return { ok: true, value: {} };
      if (typeof parsed.value !== 'object' || Array.isArray(parsed.value)) return mismatch(text, shape);
      return parsed;
    }
  }
}

function parseYaml(text: string): Coerced {
  try {
    return { ok: true, value: parse(text) as unknown };
  } catch (err) {
    return { ok: false, reason: `not valid YAML: ${(err as Error).message.split('\n')[0] ?? ''}` };
  }
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function mismatch(text: string, shape: Shape): Coerced {
  return { ok: false, reason: `expected ${describeShape(shape)}, got ${JSON.stringify(text)}` };
}
