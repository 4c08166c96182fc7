/** GET /v2/: the API version check every client makes first. */
import type { Handler } from '../context.ts';

export const getBase: Handler = async ({ res }) => {
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', 2);
  res.end('{}');
};
