/**
 * The bus of a broker that runs alone: every message goes to this node's
 * own subscribers, and no other node holds a session to take over.
 *
 * @module
 */

import type { Message } from "../message.ts";
import type { Bus, BusNode } from "./ports.ts";

/**
 * The single-node {@linkcode Bus}, the default: `publish` is a direct call
 * to the node's router, interest is nobody else's business, and takeover
 * never waits.
 */
export class LocalBus implements Bus {
  #node: BusNode | undefined;

  attach(node: BusNode): void {
    this.#node = node;
  }

  publish(message: Message, hold: boolean): Promise<void> | undefined {
    return this.#node?.routeLocal(message, hold);
  }

  addInterest(_topicFilter: string): void {}

  removeInterest(_topicFilter: string): void {}

  takeOver(_clientId: string): undefined {
    return undefined;
  }

  close(): void {
    this.#node = undefined;
  }
}
