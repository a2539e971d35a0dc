import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { TopicTree } from "./topic_tree.ts";

/** Filters of one tree, each added under its own key (the filter itself). */
const FILTERS = [
  "#",
  "+",
  "+/+",
  "+/#",
  "/",
  "/+",
  "+/",
  "a",
  "a/#",
  "a/+",
  "a/b",
  "a/b/#",
  "a/+/c",
  "a//b",
  "a/+/b",
  "+/b",
  "+/x",
  "$SYS/#",
  "$SYS/+",
  "$SYS/x",
  "$SYS",
  "__proto__",
  "__proto__/#",
  "constructor/+",
];

/** Each topic and every filter of FILTERS that matches it. */
const MATCHES: [topic: string, filters: string[]][] = [
  ["a", ["#", "+", "+/#", "a", "a/#"]],
  ["a/b", ["#", "+/+", "+/#", "a/#", "a/+", "a/b", "a/b/#", "+/b"]],
  ["a/b/c", ["#", "+/#", "a/#", "a/b/#", "a/+/c"]],
  ["a/x/b", ["#", "+/#", "a/#", "a/+/b"]],
  ["a//b", ["#", "+/#", "a/#", "a//b", "a/+/b"]],
  ["a/", ["#", "+/+", "+/#", "+/", "a/#", "a/+"]],
  ["/a", ["#", "+/+", "+/#", "/+"]],
  ["/", ["#", "+/+", "+/#", "/", "/+", "+/"]],
  ["", ["#", "+", "+/#"]],
  ["b", ["#", "+", "+/#"]],
  ["x/x", ["#", "+/+", "+/#", "+/x"]],
  // [MQTT-4.7.2-1] Wildcard-first filters never match "$" topics.
  ["$SYS", ["$SYS/#", "$SYS"]],
  ["$SYS/x", ["$SYS/#", "$SYS/+", "$SYS/x"]],
  ["$SYS/x/y", ["$SYS/#"]],
  ["$other/x", []],
  ["a/$SYS", ["#", "+/+", "+/#", "a/#", "a/+"]],
  ["__proto__", ["#", "+", "+/#", "__proto__", "__proto__/#"]],
  ["constructor/a", ["#", "+/+", "+/#", "constructor/+"]],
  ["constructor", ["#", "+", "+/#"]],
];

function matched(tree: TopicTree<string>, topic: string): string[] {
  const found: string[] = [];
  tree.match(topic, (value, key, filter) => {
    strictEqual(value, `value of ${key}`);
    strictEqual(filter, key);
    found.push(filter);
  });
  return found.sort();
}

function treeOf(filters: string[]): TopicTree<string> {
  const tree = new TopicTree<string>();
  for (const filter of filters) tree.add(filter, filter, `value of ${filter}`);
  return tree;
}

for (const [topic, filters] of MATCHES) {
  Deno.test(`TopicTree.match() finds the filters matching ${JSON.stringify(topic)}`, () => {
    deepStrictEqual(matched(treeOf(FILTERS), topic), [...filters].sort());
  });
}

/** A plain reference matcher, to check the tree on many combinations. */
function filterMatches(filter: string, topic: string): boolean {
  const f = filter.split("/");
  const t = topic.split("/");
  if (topic.startsWith("$") && (f[0] === "+" || f[0] === "#")) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return true;
    if (i >= t.length) return false;
    if (f[i] !== "+" && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

for (
  const [prefix, label] of [
    ["", "every pair"],
    // Past 1024 characters the tree walks with its own stack.
    ["p/".repeat(520), "every pair behind 520 levels"],
  ]
) {
  Deno.test(`TopicTree.match() agrees with a reference matcher on ${label}`, () => {
    agreesWithReference(prefix as string);
  });
}

function agreesWithReference(prefix: string): void {
  const levels = ["a", "b", "", "$x"];
  const topics: string[] = [];
  const extend = (prefix: string[], depth: number) => {
    if (prefix.length > 0) topics.push(prefix.join("/"));
    if (depth === 0) return;
    for (const level of levels) extend([...prefix, level], depth - 1);
  };
  extend([], 3);
  const filters = new Set<string>(FILTERS);
  for (const topic of topics) {
    filters.add(topic);
    const parts = topic.split("/");
    for (let i = 0; i < parts.length; i++) {
      const plus = [...parts];
      plus[i] = "+";
      filters.add(plus.join("/"));
      filters.add([...parts.slice(0, i), "#"].join("/"));
      filters.add([...plus.slice(0, i + 1), "#"].join("/"));
    }
  }
  const all = [...filters].map((f) => prefix + f);
  const tree = treeOf(all);
  for (const topic of topics.map((t) => prefix + t)) {
    const expected = all.filter((f) => filterMatches(f, topic));
    deepStrictEqual(matched(tree, topic), expected.sort(), topic);
  }
}

Deno.test("TopicTree.match() calls back once per key of a shared filter", () => {
  const tree = new TopicTree<number>();
  tree.add("a/+", "alice", 1);
  tree.add("a/+", "bob", 2);
  tree.add("a/b", "alice", 0);
  const calls: [number, string, string][] = [];
  tree.match("a/b", (value, key, filter) => calls.push([value, key, filter]));
  deepStrictEqual(calls.sort(), [
    [0, "alice", "a/b"],
    [1, "alice", "a/+"],
    [2, "bob", "a/+"],
  ]);
});

Deno.test("TopicTree.add() replaces the value of an existing entry", () => {
  const tree = new TopicTree<number>();
  strictEqual(tree.add("a/#", "alice", 0), true);
  strictEqual(tree.add("a/#", "bob", 0), true);
  strictEqual(tree.add("a/#", "alice", 2), false);
  strictEqual(tree.size, 2);
  strictEqual(tree.get("a/#", "alice"), 2);
  const values: number[] = [];
  tree.match("a/b", (value) => values.push(value));
  deepStrictEqual(values.sort(), [0, 2]);
});

Deno.test("TopicTree.get() does not expand wildcards", () => {
  const tree = new TopicTree<number>();
  tree.add("a/+", "alice", 1);
  strictEqual(tree.get("a/b", "alice"), undefined);
  strictEqual(tree.get("a/+", "bob"), undefined);
  strictEqual(tree.get("a", "alice"), undefined);
  strictEqual(tree.get("a/+/c", "alice"), undefined);
  strictEqual(tree.get("a/+", "alice"), 1);
});

Deno.test("TopicTree.remove() removes one entry and keeps the others", () => {
  const tree = treeOf(FILTERS);
  tree.add("a/b", "other", "value of other");
  strictEqual(tree.remove("a/b", "a/b"), true);
  strictEqual(tree.remove("a/b", "a/b"), false);
  strictEqual(tree.remove("a/b/c", "a/b"), false);
  strictEqual(tree.remove("a/b", "nobody"), false);
  strictEqual(tree.size, FILTERS.length);
  strictEqual(tree.get("a/b", "other"), "value of other");
  strictEqual(tree.get("a/b/#", "a/b/#"), "value of a/b/#");
  const keys: string[] = [];
  tree.match("a/b", (_value, key) => keys.push(key));
  strictEqual(keys.includes("a/b"), false);
  strictEqual(keys.includes("other"), true);
});

Deno.test("TopicTree keeps the keys of one filter in the order they came, as they come and go", () => {
  const tree = new TopicTree<number>();
  const keys = () => {
    const seen: string[] = [];
    tree.match("a/b", (value, key) => seen.push(`${key}=${value}`));
    return seen;
  };
  tree.add("a/b", "alice", 1);
  tree.add("a/b", "bob", 2);
  tree.add("a/b", "carol", 3);
  deepStrictEqual(keys(), ["alice=1", "bob=2", "carol=3"]);
  strictEqual(tree.remove("a/b", "bob"), true);
  strictEqual(tree.remove("a/b", "alice"), true);
  deepStrictEqual(keys(), ["carol=3"]);
  strictEqual(tree.get("a/b", "carol"), 3);
  strictEqual(tree.get("a/b", "alice"), undefined);
  strictEqual(tree.add("a/b", "carol", 4), false);
  strictEqual(tree.add("a/b", "dave", 5), true);
  deepStrictEqual(keys(), ["carol=4", "dave=5"]);
  strictEqual(tree.remove("a/b", "carol"), true);
  strictEqual(tree.remove("a/b", "carol"), false);
  strictEqual(tree.remove("a/b", "dave"), true);
  deepStrictEqual(keys(), []);
  strictEqual(tree.size, 0);
  deepStrictEqual([...tree.entries()], []);
  // An empty key is a key like any other.
  tree.add("a/b", "", 6);
  deepStrictEqual(keys(), ["=6"]);
  strictEqual(tree.remove("a/b", ""), true);
  strictEqual(tree.size, 0);
});

Deno.test("TopicTree.remove() prunes the nodes it empties", () => {
  const tree = new TopicTree<number>();
  tree.add("a/b/c/d", "alice", 0);
  tree.add("a/+/#", "alice", 0);
  tree.add("a", "alice", 0);
  strictEqual(tree.remove("a/b/c/d", "alice"), true);
  strictEqual(tree.remove("a/+/#", "alice"), true);
  // Inner nodes are gone: only "a" is left to list.
  deepStrictEqual([...tree.entries()], [["a", "alice", 0]]);
  strictEqual(tree.remove("a", "alice"), true);
  strictEqual(tree.size, 0);
  deepStrictEqual([...tree.entries()], []);
  // The pruned tree still works.
  tree.add("a/b/c/d", "bob", 1);
  const keys: string[] = [];
  tree.match("a/b/c/d", (_value, key) => keys.push(key));
  deepStrictEqual(keys, ["bob"]);
});

Deno.test("TopicTree.entries() lists every entry", () => {
  const tree = treeOf(FILTERS);
  tree.add("a/b", "other", "x");
  const listed = [...tree.entries()].map(([f, k, v]) => `${f} ${k} ${v}`);
  const expected = FILTERS.map((f) => `${f} ${f} value of ${f}`);
  expected.push("a/b other x");
  deepStrictEqual(listed.sort(), expected.sort());
  strictEqual(tree.size, FILTERS.length + 1);
});

Deno.test("TopicTree.match() walks a topic of 100,000 levels without recursion", () => {
  const tree = new TopicTree<number>();
  const deep = "/".repeat(100_000);
  tree.add(deep, "exact", 0);
  tree.add("#", "all", 0);
  tree.add(`${"+/".repeat(50_000)}#`, "plus", 0);
  tree.add(`${deep}/#`, "parent", 0);
  const keys: string[] = [];
  tree.match(deep, (_value, key) => keys.push(key));
  deepStrictEqual(keys.sort(), ["all", "exact", "parent", "plus"]);
  strictEqual(tree.get(deep, "exact"), 0);
  deepStrictEqual([...tree.entries()].length, 4);
  strictEqual(tree.remove(deep, "exact"), true);
  strictEqual(tree.remove(`${deep}/#`, "parent"), true);
  strictEqual(tree.remove(`${"+/".repeat(50_000)}#`, "plus"), true);
  strictEqual(tree.size, 1);
});

Deno.test("TopicTree.match() calls back in the same order for short and long topics", () => {
  for (const prefix of ["", "p/".repeat(600)]) {
    const tree = new TopicTree<number>();
    for (const filter of ["a/b/c", "a/+/c", "+/b/c", "+/+/c", "a/b/+"]) {
      tree.add(prefix + filter, filter, 0);
    }
    const keys: string[] = [];
    tree.match(`${prefix}a/b/c`, (_value, key) => keys.push(key));
    deepStrictEqual(keys, ["+/+/c", "+/b/c", "a/+/c", "a/b/+", "a/b/c"]);
  }
});

Deno.test("TopicTree.match() keeps wildcards off long $ topics", () => {
  const tree = new TopicTree<number>();
  const deep = `$SYS/${"a/".repeat(600)}b`;
  tree.add("#", "all", 0);
  tree.add(`+/${"a/".repeat(600)}b`, "plus", 0);
  tree.add("$SYS/#", "sys", 0);
  tree.add(deep, "exact", 0);
  const keys: string[] = [];
  tree.match(deep, (_value, key) => keys.push(key));
  deepStrictEqual(keys.sort(), ["exact", "sys"]);
});
