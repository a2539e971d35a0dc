import { strictEqual } from "node:assert/strict";
import { SharedGroups } from "./_shared_groups.ts";

function sharedGroupKey(shareName: string, filter: string): string {
  return `${shareName} ${filter}`;
}

Deno.test("SharedGroups.leave() forgets a group with its last member", () => {
  const groups = new SharedGroups();
  for (let i = 0; i < 1000; i++) {
    const key = sharedGroupKey(`random-${i}`, "x");
    groups.join(key);
    groups.nextTurn(key);
    groups.leave(key);
  }
  strictEqual(groups.size, 0);
});

Deno.test("SharedGroups.nextTurn() keeps counting while members come and go", () => {
  const groups = new SharedGroups();
  const key = sharedGroupKey("g", "a/#");
  groups.join(key);
  groups.join(key);
  strictEqual(groups.nextTurn(key), 0);
  groups.leave(key);
  strictEqual(groups.nextTurn(key), 1);
  groups.join(key);
  strictEqual(groups.nextTurn(key), 2);
  strictEqual(groups.size, 1);
});

Deno.test("SharedGroups.nextTurn() is 0 for a group without members", () => {
  const groups = new SharedGroups();
  strictEqual(groups.nextTurn(sharedGroupKey("g", "a")), 0);
  strictEqual(groups.size, 0);
});

Deno.test("sharedGroupKey() keeps share names and filters apart", () => {
  strictEqual(
    sharedGroupKey("a", "b/c") === sharedGroupKey("a/b", "c"),
    false,
  );
});
