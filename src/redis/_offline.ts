/**
 * Commands sent while no connection is ready: encoded at once (so the
 * caller's bytes may change afterwards), kept in order, and rejected when
 * they have waited longer than allowed.
 *
 * @module
 */

import { CommandWriter } from "./_command.ts";
import type { Pending, RespConnection } from "./_connection.ts";
import type { RedisArgument } from "./types.ts";

/** A held command and where its bytes end. */
interface Held {
  readonly pending: Pending;
  readonly end: number;
}

/** Commands waiting for a connection, oldest first. */
export class OfflineQueue {
  readonly #bytes = new CommandWriter(1024);
  #held: Held[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #timeout: number;
  readonly #expired: () => Error;

  /**
   * @param timeout Milliseconds a command may wait.
   * @param expired Makes the error for commands that waited too long.
   */
  constructor(timeout: number, expired: () => Error) {
    this.#timeout = timeout;
    this.#expired = expired;
  }

  /** Bytes of the commands waiting. */
  get bytes(): number {
    return this.#bytes.length;
  }

  /** Commands waiting. */
  get length(): number {
    return this.#held.length;
  }

  /**
   * Holds a command; its `sentAt` is when it started waiting.
   *
   * @throws {TypeError} If an argument cannot be encoded (nothing is held).
   */
  add(args: readonly RedisArgument[], pending: Pending): void {
    this.#bytes.write(args);
    this.#held.push({ pending, end: this.#bytes.length });
    this.#timer ??= setTimeout(this.#expire, this.#timeout);
  }

  /** Sends every held command on a ready connection, in order. */
  sendOn(connection: RespConnection): void {
    if (this.#held.length === 0) return;
    connection.sendEncoded(
      this.#bytes.bytes(),
      this.#held.map((held) => held.pending),
    );
    this.#held = [];
    this.#bytes.reset();
    this.#stopTimer();
  }

  /** Rejects every held command. */
  rejectAll(error: Error): void {
    this.#reject(this.#held.length, error);
    this.#stopTimer();
  }

  #stopTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Rejects the commands that waited too long; waits for the next. */
  readonly #expire = (): void => {
    this.#timer = undefined;
    const now = Date.now();
    let expired = 0;
    while (
      expired < this.#held.length &&
      now - this.#held[expired]!.pending.sentAt >= this.#timeout
    ) {
      expired++;
    }
    if (expired > 0) this.#reject(expired, this.#expired());
    const oldest = this.#held[0];
    if (oldest !== undefined) {
      this.#timer = setTimeout(
        this.#expire,
        Math.max(1, oldest.pending.sentAt + this.#timeout - now),
      );
    }
  };

  /** Rejects the `n` oldest commands and drops their bytes. */
  #reject(n: number, error: Error): void {
    if (n === 0) return;
    const gone = this.#held.slice(0, n);
    const cut = gone[gone.length - 1]!.end;
    const rest = this.#bytes.bytes().slice(cut);
    this.#bytes.reset();
    this.#bytes.append(rest);
    this.#held = this.#held.slice(n).map((held) => ({
      pending: held.pending,
      end: held.end - cut,
    }));
    for (const held of gone) held.pending.reject(error);
  }
}
