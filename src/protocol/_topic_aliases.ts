/**
 * The topic aliases an MQTT 5.0 client sets on its connection.
 *
 * @module
 */

import { MqttError, ProtocolError } from "../../packets/errors.ts";
import { ReasonCode } from "../../packets/reason_code.ts";
import type { PublishPacket } from "../../packets/types.ts";

/** Topic names by alias, for one connection, up to the server's maximum. */
export class TopicAliases {
  readonly #maximum: number;
  #topics: Map<number, string> | undefined;

  /** @param maximum The Topic Alias Maximum the CONNACK announced. */
  constructor(maximum: number) {
    this.#maximum = maximum;
  }

  /**
   * The topic name a 5.0 PUBLISH is for: its own, which it also sets for its
   * alias, or the one its alias stands for.
   *
   * @throws {MqttError} 0x94 for an alias of 0 or above the maximum, 0x82
   * for an empty topic with no alias or an alias never set.
   */
  resolve(packet: PublishPacket): string {
    const alias = packet.properties?.topicAlias;
    if (alias === undefined) {
      if (packet.topic === "") {
        throw new ProtocolError(
          "Cannot route a PUBLISH with an empty topic and no topic alias",
        );
      }
      return packet.topic;
    }
    if (alias === 0 || alias > this.#maximum) {
      // [MQTT-3.3.2-9] [MQTT-3.3.2-10]
      throw new MqttError(
        ReasonCode.TopicAliasInvalid,
        `Cannot use topic alias ${alias}: the maximum is ${this.#maximum}`,
      );
    }
    this.#topics ??= new Map();
    if (packet.topic !== "") {
      this.#topics.set(alias, packet.topic);
      return packet.topic;
    }
    const topic = this.#topics.get(alias);
    if (topic === undefined) {
      throw new ProtocolError(`Cannot use topic alias ${alias}: it is not set`);
    }
    return topic;
  }
}
