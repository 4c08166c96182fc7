/**
 * Reads a YAML config file and keeps its document, so that later problems can point at the
 * line a key was written on, and string keys written as numbers (`version: 0.1`) keep the
 * text as written rather than the float it parses to.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { ConfigError, type ConfigProblem } from './errors.ts';

export type KeyPath = readonly (string | number)[];

export interface ScalarText {
  /** The scalar's text as written in the file, without quotes. */
  source: string;
  /** True for an unquoted scalar (the only kind YAML may read as a bool or number). */
  plain: boolean;
}

export class YamlSource {
  readonly file: string;
  /** The file's content as plain data; null for an empty file. */
  readonly value: unknown;
  readonly warnings: readonly string[];
  readonly #doc: Document.Parsed;
  readonly #lines: LineCounter;

  /** Parses `text`; a syntax error throws ConfigError with the file, line and column. */
  constructor(file: string, text: string) {
    this.file = file;
    this.#lines = new LineCounter();
    this.#doc = parseDocument(text, { lineCounter: this.#lines, merge: true });
    const errors = this.#doc.errors.map((err): ConfigProblem => {
      const pos = err.linePos?.[0];
      return { path: '', reason: `YAML syntax error: ${firstLine(err.message)}`, line: pos?.line, column: pos?.col };
    });
    if (errors.length > 0) throw new ConfigError(errors, file);
    this.warnings = this.#doc.warnings.map((warning) => `${file}: ${firstLine(warning.message)}`);
    this.value = this.#doc.toJS() as unknown;
  }

  /** Line and column of the key at `path`, or of its nearest ancestor written in the file. */
  positionOf(path: KeyPath): { line: number; column: number } | undefined {
    let node: unknown = this.#doc.contents;
    let offset: number | undefined;
    for (const segment of path) {
      if (isMap(node)) {
        const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
        if (pair === undefined) break;
        offset = isScalar(pair.key) ? pair.key.range?.[0] : undefined;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number') {
        const item = node.items[segment] as Node | undefined;
        if (item === undefined) break;
        offset = item.range?.[0];
        node = item;
      } else {
        break;
      }
    }
    if (offset === undefined) return undefined;
    const { line, col } = this.#lines.linePos(offset);
    return { line, column: col };
  }

  /** The text of the scalar at `path` as written, if there is one. */
  scalarAt(path: KeyPath): ScalarText | undefined {
    const node = this.#doc.getIn(path, true);
    if (!isScalar(node) || node.source === undefined) return undefined;
    return { source: node.source, plain: node.type === 'PLAIN' };
  }
}

/** yaml's messages carry a multi-line code excerpt; the position is reported separately. */
function firstLine(message: string): string {
  return (message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
}
