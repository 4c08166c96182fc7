/**
 * The shape of the configuration, read off the zod schema: which keys exist, which hold
 * records (free-form keys such as http.headers), and what type each leaf has. Environment
 * overrides, `_env:` substitution and unknown-key warnings all walk this, so the schema stays
 * the single list of keys.
 */
import { z } from 'zod';

export type Shape =
  | { kind: 'object'; fields: ReadonlyMap<string, Shape> }
  | { kind: 'record'; value: Shape }
  | { kind: 'array'; element: Shape }
  | { kind: 'string' | 'boolean' | 'number' | 'unknown' };

export type LeafKind = 'string' | 'boolean' | 'number' | 'unknown';

/** Derives the shape of a zod schema, looking through defaults, optionals, refinements and transforms. */
export function shapeOf(schema: z.core.$ZodType): Shape {
  if (
    schema instanceof z.ZodDefault ||
    schema instanceof z.ZodPrefault ||
    schema instanceof z.ZodOptional ||
    schema instanceof z.ZodNullable
  ) {
    return shapeOf(schema.unwrap());
  }
  if (schema instanceof z.ZodPipe) {
    // A transform's input is opaque: the shape is what it feeds (z.preprocess) or what feeds it.
    return shapeOf(schema.in instanceof z.ZodTransform ? schema.out : schema.in);
  }
  if (schema instanceof z.ZodObject) {
    const fields = new Map<string, Shape>();
    for (const [key, field] of Object.entries(schema.shape)) fields.set(key, shapeOf(field));
    return { kind: 'object', fields };
  }
  if (schema instanceof z.ZodRecord) return { kind: 'record', value: shapeOf(schema.valueType) };
  if (schema instanceof z.ZodArray) return { kind: 'array', element: shapeOf(schema.element) };
  if (schema instanceof z.ZodString || schema instanceof z.ZodEnum) return { kind: 'string' };
  if (schema instanceof z.ZodBoolean) return { kind: 'boolean' };
  if (schema instanceof z.ZodNumber) return { kind: 'number' };
  return { kind: 'unknown' };
}

/** Whether a shape holds a single value (not a mapping or list). */
export function isLeaf(shape: Shape): shape is { kind: LeafKind } {
  return shape.kind !== 'object' && shape.kind !== 'record' && shape.kind !== 'array';
}

/** A short English name for a shape, for error messages. */
export function describeShape(shape: Shape): string {
  switch (shape.kind) {
    case 'object':
    case 'record':
      return 'a mapping';
    case 'array':
      return 'a list';
    case 'string':
      return 'a string';
    case 'boolean':
      return 'a boolean (true or false)';
    case 'number':
      return 'a number';
    case 'unknown':
      return 'a value';
  }
}
