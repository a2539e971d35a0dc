/**
 * The layers point one way: no module of the published entry points
 * imports, directly or through others, a module that imports it back, and
 * each folder of `src/` imports only from the layers below it.
 *
 * @module
 */

import { deepStrictEqual } from "node:assert/strict";

const ENTRY_POINTS = [
  "mod.ts",
  "packets/mod.ts",
  "cmd/broker.ts",
  "cmd/bench.ts",
  // Each folder's entry point, with its module doc.
  ...[
    "core",
    "store",
    "transport",
    "redis",
    "cluster",
    "hooks",
    "observe",
    "protocol",
    "server",
  ].map((folder) => `src/${folder}/mod.ts`),
  "src/api/mod.ts",
  "src/config/mod.ts",
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

/**
 * What each folder may import besides itself, lowest layer first. The shared
 * vocabulary (`src/types.ts`, `src/message.ts`), the message codec
 * (`src/message_codec.ts`) and the packet codec are open to all; the logger is the one module of `src/observe/` the core may use.
 */
const LAYERS: [folder: string, mayImport: string[]][] = [
  ["src/core/", ["src/observe/logger.ts"]],
  ["src/transport/", ["src/observe/"]],
  ["src/redis/", ["src/observe/"]],
  ["src/observe/", ["src/core/", "deno.json"]],
  ["src/hooks/", ["src/core/", "src/observe/"]],
  ["src/store/", ["src/core/", "src/observe/", "src/redis/"]],
  ["src/cluster/", ["src/core/", "src/observe/", "src/redis/"]],
  ["src/protocol/", [
    "src/core/",
    "src/transport/",
    "src/hooks/",
    "src/observe/",
  ]],
  ["src/server/", [
    "src/core/",
    "src/transport/",
    "src/hooks/",
    "src/observe/",
    "src/protocol/",
    "src/store/",
    "src/cluster/",
    "src/redis/",
  ]],
  ["src/api/", [
    "src/core/",
    "src/transport/",
    "src/hooks/",
    "src/observe/",
    "src/protocol/",
    "src/server/",
    "src/store/",
    "src/cluster/",
    "src/redis/",
  ]],
  ["src/config/", [
    "src/core/",
    "src/transport/",
    "src/hooks/",
    "src/observe/",
    "src/protocol/",
    "src/server/",
    "src/store/",
    "src/cluster/",
    "src/redis/",
    "src/api/",
  ]],
];

const OPEN_TO_ALL = [
  "packets/",
  "src/types.ts",
  "src/message.ts",
  "src/message_codec.ts",
];

Deno.test("each folder of src/ imports only from the layers below it", async () => {
  const graph = await importGraph();
  const wrong: string[] = [];
  const folders = new Set<string>(LAYERS.map(([folder]) => folder));
  for (const [from, to] of graph) {
    if (from.startsWith("src/") && !from.slice(4).includes("/")) {
      // The shared vocabulary imports nothing but the codec.
      for (const t of to) {
        if (!t.startsWith("packets/") && !OPEN_TO_ALL.includes(t)) {
          wrong.push(`${from} -> ${t}`);
        }
      }
      continue;
    }
    const layer = LAYERS.find(([folder]) => from.startsWith(folder));
    if (layer === undefined) continue;
    const [folder, allowed] = layer;
    for (const t of to) {
      const ok = t.startsWith(folder) ||
        OPEN_TO_ALL.some((open) => t.startsWith(open)) ||
        allowed.some((a) => t.startsWith(a));
      if (!ok) wrong.push(`${from} -> ${t}`);
    }
  }
  deepStrictEqual(wrong, []);
  // Every folder of src/ has its place in the order.
  const seen = new Set(
    [...graph.keys()].filter((m) =>
      m.startsWith("src/") && m.slice(4).includes("/")
    )
      .map((m) => m.slice(0, m.indexOf("/", 4) + 1)),
  );
  deepStrictEqual([...seen].filter((f) => !folders.has(f)), []);
});

Deno.test("only src/transport/ and src/redis/ open outgoing connections", async () => {
  const root = new URL("../src/", import.meta.url);
  const found: string[] = [];
  const visit = async (dir: URL, prefix: string): Promise<void> => {
    for await (const entry of Deno.readDir(dir)) {
      const name = `${prefix}${entry.name}`;
      if (entry.isDirectory) {
        await visit(new URL(`${entry.name}/`, dir), `${name}/`);
      } else if (name.endsWith(".ts") && !name.endsWith("_test.ts")) {
        const text = await Deno.readTextFile(new URL(entry.name, dir));
        for (const line of text.split("\n")) {
          const code = line.trim();
          if (code.startsWith("*") || code.startsWith("//")) continue;
          if (/Deno\.(connect|connectTls|startTls)\b/.test(code)) {
            found.push(`src/${name}`);
            break;
          }
        }
      }
    }
  };
  await visit(root, "");
  deepStrictEqual(
    found.filter((f) =>
      !f.startsWith("src/transport/") && !f.startsWith("src/redis/")
    ),
    [],
  );
  // The check itself works: the Redis client is found.
  deepStrictEqual(found.includes("src/redis/_open.ts"), true);
});
