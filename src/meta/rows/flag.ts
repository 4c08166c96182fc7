/**
 * A 0/1 flag column as a boolean: SQLite stores flags as INTEGER 0/1, PostgreSQL as BOOLEAN, and
 * the row types shared by both stores (this folder) type such a column `number | boolean`.
 */
export type Flag = number | boolean;

export const flag = (v: Flag): boolean => v === true || v === 1;
