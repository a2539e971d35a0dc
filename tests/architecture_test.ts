/**
 * The layers point one way: no module of the published entry points
 * imports, directly or through others, a module that imports it back.
 *
 * @module
 */

import { deepStrictEqual } from "node:assert/strict";

const ENTRY_POINTS = [
  "mod.ts",
  "packets/mod.ts",
  "cmd/broker.ts",
  "cmd/bench.ts",
];

interface ModuleInfo {
  specifier: string;
  dependencies?: {
    code?: { specifier?: string };
    type?: { specifier?: string };
  }[];
}

/** The import graph of the project's own files, from `deno info --json`. */
async function importGraph(): Promise<Map<string, Set<string>>> {
  const root = new URL("../", import.meta.url);
  const graph = new Map<string, Set<string>>();
  for (const entry of ENTRY_POINTS) {
    const { stdout, success } = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", new URL(entry, root).href],
      stdout: "piped",
      stderr: "null",
    }).output();
    deepStrictEqual(success, true, `deno info failed for ${entry}`);
    const info = JSON.parse(new TextDecoder().decode(stdout)) as {
      modules: ModuleInfo[];
    };
    for (const module of info.modules) {
      if (!module.specifier.startsWith(root.href)) continue;
      const name = module.specifier.slice(root.href.length);
      const edges = graph.get(name) ?? new Set<string>();
      graph.set(name, edges);
      for (const dependency of module.dependencies ?? []) {
        for (const to of [dependency.code, dependency.type]) {
          const target = to?.specifier;
          if (target?.startsWith(root.href)) {
            edges.add(target.slice(root.href.length));
          }
        }
      }
    }
  }
  return graph;
}

/** Groups of modules that import each other (Tarjan's algorithm). */
function circles(graph: Map<string, Set<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1) found.push(group.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

Deno.test("the modules of mod.ts, packets/mod.ts and cmd/ import no circle", async () => {
  deepStrictEqual(circles(await importGraph()), []);
});

Deno.test("packets/ imports nothing from src/ or cmd/", async () => {
  const graph = await importGraph();
  const upward = [...graph].flatMap(([from, to]) =>
    from.startsWith("packets/")
      ? [...to].filter((t) => !t.startsWith("packets/") && t !== "deno.json")
        .map((t) => `${from} -> ${t}`)
      : []
  );
  deepStrictEqual(upward, []);
});
