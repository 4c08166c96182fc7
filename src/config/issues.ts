/**
 * Turns zod's validation issues into reasons an operator can act on: what was expected and,
 * where it helps, the value that was found ("expected a boolean, got string \"maybe\"").
 */
import type { z } from 'zod';

export function issueReason(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.expected === 'int') return `expected an integer, got ${describeValue(issue.input)}`;
      return `expected ${article(issue.expected)}, got ${describeValue(issue.input)}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}; got ${describeValue(issue.input)}`;
    case 'too_small':
      if (issue.origin === 'string' && Number(issue.minimum) === 1) return 'must not be empty';
      if (issue.origin === 'number' || issue.origin === 'int') {
        return `must be ${issue.inclusive === true ? 'at least' : 'greater than'} ${issue.minimum}; got ${describeValue(issue.input)}`;
      }
      return issue.message;
    default:
      return issue.message;
  }
}

function article(expected: string): string {
  switch (expected) {
    case 'object':
    case 'record':
      return 'a mapping';
    case 'array':
      return 'a list';
    case 'boolean':
      return 'a boolean (true or false)';
    default:
      return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
  }
}

/** A short, safe description of a value from the config: its type, and the value if short. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  const text = JSON.stringify(value);
  return text.length <= 40 ? `${typeof value} ${text}` : typeof value;
}
