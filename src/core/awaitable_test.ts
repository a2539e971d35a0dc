import {
  deepStrictEqual,
  rejects,
  strictEqual,
  throws,
} from "node:assert/strict";
import { whenOpen, whenReady } from "./awaitable.ts";

/** A link that a test closes when it likes. */
function link(): { isClosed: boolean } {
  return { isClosed: false };
}

function tenfold(n: number): number {
  return n * 10;
}

Deno.test("whenReady() applies next to a plain value in the same task", () => {
  const seen: number[] = [];
  const result = whenReady(2, (n: number) => {
    seen.push(n);
    return tenfold(n);
  });
  // No promise, and next has run before whenReady returned.
  strictEqual(result, 20);
  deepStrictEqual(seen, [2]);
});

Deno.test("whenReady() applies next to a promise only once it resolved", async () => {
  const seen: number[] = [];
  const { promise, resolve } = Promise.withResolvers<number>();
  const result = whenReady(promise, (n: number) => {
    seen.push(n);
    return tenfold(n);
  });
  strictEqual(result instanceof Promise, true);
  deepStrictEqual(seen, []);
  resolve(2);
  strictEqual(await result, 20);
  deepStrictEqual(seen, [2]);
});

Deno.test("whenReady() passes its context arguments on to next, in order", async () => {
  const next = (v: string, a: number, b: boolean): string => `${v} ${a} ${b}`;
  strictEqual(whenReady("x", next, 1, true), "x 1 true");
  strictEqual(
    await whenReady(Promise.resolve("y"), next, 2, false),
    "y 2 false",
  );
  const one = (v: string, a: number): string => `${v}${a}`;
  strictEqual(whenReady("z", one, 3), "z3");
  // @ts-expect-error: the context must be what next takes.
  whenReady("z", one, "three");
});

Deno.test("whenReady() flattens a promise that next returns", async () => {
  const result = whenReady(
    Promise.resolve(2),
    (n: number) => Promise.resolve(tenfold(n)),
  );
  strictEqual(await result, 20);
});

Deno.test("whenReady() rejects with the value's rejection and skips next", async () => {
  let called = false;
  const result = whenReady(Promise.reject(new Error("hook failed")), () => {
    called = true;
  });
  await rejects(Promise.resolve(result), { message: "hook failed" });
  strictEqual(called, false);
});

Deno.test("whenReady() throws what next throws on a plain value, and rejects with it on a promise", async () => {
  const fail = (): never => {
    throw new Error("next failed");
  };
  throws(() => whenReady(1, fail), { message: "next failed" });
  await rejects(Promise.resolve(whenReady(Promise.resolve(1), fail)), {
    message: "next failed",
  });
});

Deno.test("whenOpen() applies next to a plain value in the same task while the link is open", () => {
  strictEqual(whenOpen(link(), 2, tenfold), 20);
});

Deno.test("whenOpen() applies next to a promise once it resolved if the link is still open", async () => {
  const { promise, resolve } = Promise.withResolvers<number>();
  const seen: number[] = [];
  const result = whenOpen(link(), promise, (n: number) => seen.push(n));
  deepStrictEqual(seen, []);
  resolve(2);
  strictEqual(await result, 1);
  deepStrictEqual(seen, [2]);
});

Deno.test("whenOpen() does not call next when the link closed while the promise was pending", async () => {
  const l = link();
  const { promise, resolve } = Promise.withResolvers<number>();
  let called = false;
  const result = whenOpen(l, promise, () => {
    called = true;
    return "acted";
  });
  l.isClosed = true;
  resolve(2);
  strictEqual(await result, undefined);
  strictEqual(called, false);
});

Deno.test("whenOpen() does not call next on a plain value when the link is closed", () => {
  // A synchronous hook may close the link itself (a hook that kicks its
  // client): its answer is not acted on either.
  const l = link();
  l.isClosed = true;
  let called = false;
  const result = whenOpen(l, 2, () => {
    called = true;
    return "acted";
  });
  strictEqual(result, undefined);
  strictEqual(called, false);
});

Deno.test("whenOpen() passes its context arguments on to next", async () => {
  const next = (v: string, a: number, b: string): string => `${v}${a}${b}`;
  strictEqual(whenOpen(link(), "x", next, 1, "!"), "x1!");
  strictEqual(
    await whenOpen(link(), Promise.resolve("y"), next, 2, "?"),
    "y2?",
  );
});

Deno.test("whenOpen() rejects with the value's rejection, whether the link is open or closed", async () => {
  for (const closed of [false, true]) {
    const l = link();
    const { promise, reject } = Promise.withResolvers<number>();
    let called = false;
    const result = whenOpen(l, promise, () => {
      called = true;
    });
    l.isClosed = closed;
    reject(new Error("hook failed"));
    await rejects(Promise.resolve(result), { message: "hook failed" });
    strictEqual(called, false);
  }
});

Deno.test("whenOpen() rejects with what next throws after the promise resolved", async () => {
  const result = whenOpen(link(), Promise.resolve(1), (): never => {
    throw new Error("next failed");
  });
  await rejects(Promise.resolve(result), { message: "next failed" });
});
