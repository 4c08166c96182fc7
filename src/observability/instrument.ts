/**
 * Timing every async method of an interface, once, for the storage and meta store wrappers.
 * The caller lists the methods in an object typed MethodList<T>: a method added to the
 * interface and not listed there is a compile error, so nothing goes untimed by omission.
 * The result is a plain object of bound, timed methods (as withPathValidation in
 * ../storage/base.ts is), not a Proxy, so the hot path pays one closure call and a clock read.
 */

/** Names of T's members that are functions returning a promise. */
export type AsyncMethodName<T> = {
  [K in keyof T]-?: T[K] extends (...args: never[]) => Promise<unknown> ? K : never;
}[keyof T] &
  string;

/** Every async method of T, each mapped to true. */
export type MethodList<T> = { readonly [K in AsyncMethodName<T>]: true };

/** Called after each call settles; `failure` holds the rejection reason when it rejected. */
export type CallObserver<T> = (method: AsyncMethodName<T>, seconds: number, failure?: { error: unknown }) => void;

type AnyAsync = (...args: unknown[]) => Promise<unknown>;

function secondsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** The listed methods of `target`, each calling through and reporting its duration to `observe`. */
export function instrumentMethods<T extends object>(
  target: T,
  methods: MethodList<T>,
  observe: CallObserver<T>,
): Pick<T, AsyncMethodName<T>> {
  const timed: Partial<Record<AsyncMethodName<T>, AnyAsync>> = {};
  for (const name of Object.keys(methods) as AsyncMethodName<T>[]) {
    timed[name] = async (...args: unknown[]): Promise<unknown> => {
      const start = process.hrtime.bigint();
      try {
        // Looked up at each call, as a hand-written wrapper would: the target may replace a method.
        const result = await (target[name] as AnyAsync).apply(target, args);
        observe(name, secondsSince(start));
        return result;
      } catch (err) {
        observe(name, secondsSince(start), { error: err });
        throw err;
      }
    };
  }
  // Every listed name was assigned a function with the method's own parameters and result.
  return timed as unknown as Pick<T, AsyncMethodName<T>>;
}
