/**
 * The writes a Redis store has not yet committed. Private to the store.
 *
 * Each write is a few Redis commands on one key each (`HSET`, `HDEL`,
 * `ZADD`, `ZREM`, `SADD`, `SREM`, `DEL`), with absolute values only: sent
 * twice, or again after a commit whose outcome is unknown, they leave the
 * same state. A write not yet sent can be looked up by name to be changed
 * or cancelled (a delivery dequeued in the turn it was queued is never
 * sent). A commit sends every write in one `MULTI`/`EXEC`, grouped by key
 * (in their order on each key: commands on different keys commute) and
 * with the commands that take many members merged into one.
 *
 * @module
 */

import type { RedisArgument } from "../redis/mod.ts";

/** One Redis command whose key is its second argument. */
export type Command = RedisArgument[];

/** A write: its commands, changed in place while not yet sent. */
export interface Write {
  commands: Command[];
}

/** Commands whose arguments after the key are members to add or remove. */
const MERGEABLE = new Set(["HSET", "HDEL", "ZADD", "ZREM", "SADD", "SREM"]);

/** Arguments a merged command holds at most. */
const MAX_ARGUMENTS = 1024;

/**
 * The writes not yet committed, in order. A commit takes them; if it
 * fails, it gives them back to go first in the next.
 */
export class WriteBatch {
  /** Writes not yet sent. */
  #writes: Write[] = [];
  /** Writes of a commit that failed, to go again first. */
  #kept: Write[] = [];
  /** Writes not yet sent that may still change, by name. */
  readonly #named: Map<string, Write> = new Map();

  /** Whether nothing waits for a commit. */
  get empty(): boolean {
    return this.#writes.length === 0 && this.#kept.length === 0;
  }

  /** Adds a write; with a name, it can be found until sent. */
  add(commands: Command[], name?: string): Write {
    const write = { commands };
    this.#writes.push(write);
    if (name !== undefined) this.#named.set(name, write);
    return write;
  }

  /** The write of that name, if not yet sent. */
  pending(name: string): Write | undefined {
    return this.#named.get(name);
  }

  /** Cancels the write of that name if not yet sent; whether it was. */
  cancel(name: string): boolean {
    const write = this.#named.get(name);
    if (write === undefined) return false;
    write.commands = [];
    this.#named.delete(name);
    return true;
  }

  /** Takes every write for a commit; none of them can change any more. */
  take(): Write[] {
    const taken = this.#kept.length === 0
      ? this.#writes
      : this.#kept.concat(this.#writes);
    this.#kept = [];
    this.#writes = [];
    this.#named.clear();
    return taken;
  }

  /** Gives back the writes of a commit that failed, to go first. */
  keep(writes: Write[]): void {
    this.#kept = writes.concat(this.#kept);
  }
}

/**
 * The commands of writes, grouped by key in their order on each key, with
 * consecutive commands that add or remove members of one key merged.
 *
 * @param writes The writes, in order.
 * @returns The commands to send between `MULTI` and `EXEC`.
 */
export function commandsOf(writes: readonly Write[]): Command[] {
  const byKey = new Map<RedisArgument, Command[]>();
  const merged = new Set<Command>();
  for (const write of writes) {
    for (const command of write.commands) {
      const key = command[1]!;
      let list = byKey.get(key);
      if (list === undefined) {
        list = [];
        byKey.set(key, list);
      }
      const last = list[list.length - 1];
      if (
        last !== undefined && mergeable(last, command) &&
        last.length + command.length - 2 <= MAX_ARGUMENTS
      ) {
        let into = last;
        if (!merged.has(last)) {
          into = [...last];
          merged.add(into);
          list[list.length - 1] = into;
        }
        for (let i = 2; i < command.length; i++) into.push(command[i]!);
      } else {
        list.push(command);
      }
    }
  }
  const commands: Command[] = [];
  for (const list of byKey.values()) {
    for (const command of list) commands.push(command);
  }
  return commands;
}

function mergeable(a: Command, b: Command): boolean {
  return a[0] === b[0] && MERGEABLE.has(a[0] as string) &&
    a[2] !== "XX" && b[2] !== "XX";
}
