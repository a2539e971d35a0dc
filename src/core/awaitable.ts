/**
 * The sync fast path, written once. A hook (or a store) may answer with a
 * value or with a promise of it: a value is acted on at once, in the same
 * task, with no promise and no microtask; a promise is acted on when it
 * resolves, by which time the connection that asked may have closed.
 *
 * The continuation takes up to two arguments besides the answer, passed
 * through as they are, so that a caller on the hot path hands over a
 * function made once (a field, a module function) instead of a closure
 * made per message.
 *
 * @example Act on a value at once and on a promise once it resolves
 * ```ts
 * import { whenOpen } from "./awaitable.ts";
 * import { strictEqual } from "node:assert/strict";
 *
 * const link = { isClosed: false };
 * strictEqual(whenOpen(link, 2, (n) => n * 10), 20);
 * strictEqual(await whenOpen(link, Promise.resolve(2), (n) => n * 10), 20);
 * ```
 *
 * @module
 */

/** A value or a promise of it. */
export type Awaitable<T> = T | Promise<T>;

/** What {@linkcode whenOpen} asks of a link: whether it has closed. */
export interface Closable {
  /** Whether close has begun. */
  readonly isClosed: boolean;
}

/** What a continuation takes besides the value: nothing, one or two things. */
export type Context = [] | [unknown] | [unknown, unknown];

/**
 * Applies `next` to a value, at once if it is one, or once it resolves if
 * it is a promise: the `then` of a value that may or may not be a promise.
 *
 * Nothing is caught: a rejection of `value` rejects the returned promise
 * without calling `next`, and so does a throw of `next` once `value`
 * resolved; a throw of `next` on a plain value throws to the caller.
 *
 * @example Map an answer that may be a promise
 * ```ts
 * import { whenReady } from "./awaitable.ts";
 * import { strictEqual } from "node:assert/strict";
 *
 * const accepted = (code: number | undefined): boolean => code === undefined;
 * strictEqual(whenReady(undefined, accepted), true);
 * strictEqual(await whenReady(Promise.resolve(0x87), accepted), false);
 * ```
 *
 * @example Pass arguments through instead of making a closure
 * ```ts
 * import { whenReady } from "./awaitable.ts";
 * import { strictEqual } from "node:assert/strict";
 *
 * function label(code: number, topic: string, qos: number): string {
 *   return `${topic} (QoS ${qos}): ${code}`;
 * }
 * strictEqual(whenReady(0, label, "a/b", 1), "a/b (QoS 1): 0");
 * ```
 *
 * @param value A value, or a promise of it.
 * @param next What to do with the value; `context` follows it.
 * @param context Up to two arguments passed on to `next` after the value.
 * @returns What `next` returns, or a promise of it when `value` is a promise.
 */
export function whenReady<T, R, C extends Context = []>(
  value: Awaitable<T>,
  next: (value: T, ...context: C) => R,
  ...context: C
): R | Promise<Awaited<R>>;
// Fixed parameters rather than a rest array: no array per call.
export function whenReady<T, R>(
  value: Awaitable<T>,
  next: (value: T, a?: unknown, b?: unknown) => R,
  a?: unknown,
  b?: unknown,
): R | Promise<Awaited<R>> {
  if (value instanceof Promise) {
    // A promise that `next` returns is flattened: hence `Awaited`.
    return value.then((v: T) => next(v, a, b)) as Promise<Awaited<R>>;
  }
  return next(value, a, b);
}

/**
 * Applies `next` to a value as {@linkcode whenReady} does, but only while
 * `link` is open: if it has closed by the time the value is ready, `next`
 * is not called and the result is `undefined`. A promise leaves time for
 * the link to close meanwhile; so does a synchronous hook that closes it
 * (a hook that kicks its own client), which is why a plain value is checked
 * as well.
 *
 * Nothing is caught: a rejection of `value` rejects the returned promise,
 * whether the link is still open or not, so that the caller sees it.
 *
 * @example Drop an answer that comes after the link closed
 * ```ts
 * import { whenOpen } from "./awaitable.ts";
 * import { strictEqual } from "node:assert/strict";
 *
 * const link = { isClosed: false };
 * const sent: string[] = [];
 * const send = (reply: string): number => sent.push(reply);
 * const answer = whenOpen(link, Promise.resolve("PUBACK"), send);
 * link.isClosed = true;
 * strictEqual(await answer, undefined);
 * strictEqual(sent.length, 0);
 * ```
 *
 * @param link What must still be open when the value is ready.
 * @param value A value, or a promise of it.
 * @param next What to do with the value; `context` follows it.
 * @param context Up to two arguments passed on to `next` after the value.
 * @returns What `next` returns, `undefined` if the link had closed, or a
 * promise of either when `value` is a promise.
 */
export function whenOpen<T, R, C extends Context = []>(
  link: Closable,
  value: Awaitable<T>,
  next: (value: T, ...context: C) => R,
  ...context: C
): R | undefined | Promise<Awaited<R> | undefined>;
export function whenOpen<T, R>(
  link: Closable,
  value: Awaitable<T>,
  next: (value: T, a?: unknown, b?: unknown) => R,
  a?: unknown,
  b?: unknown,
): R | undefined | Promise<Awaited<R> | undefined> {
  if (value instanceof Promise) {
    return value.then((v: T) =>
      link.isClosed ? undefined : next(v, a, b)
    ) as Promise<Awaited<R> | undefined>;
  }
  return link.isClosed ? undefined : next(value, a, b);
}
