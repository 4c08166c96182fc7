/**
 * Named parameters (`@name`, as the SQLite stores write their SQL) turned into PostgreSQL's
 * positional ones ($1, $2...), so that SQL composed from parts (the visibility filter, search
 * conditions) reads the same on both databases. The translation of a SQL text is cached.
 */
export type NamedParams = Record<string, unknown>;

const cache = new Map<string, { text: string; names: string[] }>();

/** `@name` outside quotes, not `@@` (an operator) nor part of a longer word. */
const NAME = /'(?:[^']|'')*'|"(?:[^"]|"")*"|(?<![@\w])@([A-Za-z_][A-Za-z0-9_]*)/g;

export function named(sql: string, params: NamedParams): { text: string; values: unknown[] } {
  let parsed = cache.get(sql);
  if (parsed === undefined) {
    const names: string[] = [];
    const text = sql.replace(NAME, (whole, name: string | undefined) => {
      if (name === undefined) return whole;
      let i = names.indexOf(name);
      if (i < 0) i = names.push(name) - 1;
      return `$${i + 1}`;
    });
    parsed = { text, names };
    if (cache.size < 1000) cache.set(sql, parsed);
  }
  const values = parsed.names.map((n) => {
    if (!(n in params)) throw new Error(`SQL parameter @${n} has no value`);
    return params[n];
  });
  return { text: parsed.text, values };
}
