import { deepStrictEqual } from "node:assert/strict";
import plugin from "./promises.ts";

function problems(source: string): string[] {
  // The part of each message before its colon.
  return Deno.lint.runPlugin(plugin, "example.ts", source).map((d) =>
    d.message.split(":")[0]!
  );
}

Deno.test("no-dropped-promise reports void on a call", () => {
  deepStrictEqual(
    problems("declare function f(): Promise<void>;\nvoid f();\n"),
    [
      "Cannot drop a promise with void",
    ],
  );
});

Deno.test("no-dropped-promise reports a dropped .then() without a rejection handler and a dropped .finally()", () => {
  deepStrictEqual(
    problems(
      "declare const p: Promise<void>;\np.then(() => {});\np.finally(() => {});\n",
    ),
    [
      "Cannot drop the promise of .then()",
      "Cannot drop the promise of .finally()",
    ],
  );
});

Deno.test("no-dropped-promise reports a dropped call of an async function or method of the file", () => {
  deepStrictEqual(
    problems(`
async function load() {}
class A {
  async #flush() {}
  async write() {}
  run() {
    load();
    this.#flush();
    this.write();
  }
}
`),
    [
      "Cannot drop the promise of async load()",
      "Cannot drop the promise of async #flush()",
      "Cannot drop the promise of async write()",
    ],
  );
});

Deno.test("no-dropped-promise accepts handled, awaited and returned promises", () => {
  deepStrictEqual(
    problems(`
async function load() {}
declare const p: Promise<void>;
p.catch(() => {});
p.then(() => {}, () => {});
load().catch(() => {});
async function run() {
  await load();
  return load();
}
void 0;
`),
    [],
  );
});
