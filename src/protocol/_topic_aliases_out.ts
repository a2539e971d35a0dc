/**
 * The topic aliases the server sets on an MQTT 5.0 connection for the
 * topics it sends the client.
 *
 * @module
 */

/**
 * Aliases by topic name for one connection, at most `maximum` of them (the
 * smaller of the client's Topic Alias Maximum and the server's cap). When
 * all are taken, a new topic takes the alias of the topic sent least
 * recently (LRU). Topics of one or two characters get no alias: an alias
 * costs three bytes, as much as they do.
 */
export class OutboundTopicAliases {
  readonly #maximum: number;
  /** Alias by topic, least recently sent first. */
  readonly #aliases = new Map<string, number>();

  /** @param maximum Aliases at most, 1 to 65,535. */
  constructor(maximum: number) {
    this.#maximum = maximum;
  }

  /** Aliases in use. */
  get size(): number {
    return this.#aliases.size;
  }

  /**
   * The alias the client already knows for the topic, marked as used now;
   * undefined if it has none.
   */
  known(topic: string): number | undefined {
    const aliases = this.#aliases;
    const alias = aliases.get(topic);
    if (alias === undefined) return undefined;
    if (aliases.size > 1) {
      // Most recently used last: move it there.
      aliases.delete(topic);
      aliases.set(topic, alias);
    }
    return alias;
  }

  /**
   * The alias a topic with none would get: a free one, or the one of the
   * topic sent least recently. Nothing changes until `assign`.
   */
  candidate(topic: string): number | undefined {
    if (topic.length < 3) return undefined;
    const aliases = this.#aliases;
    if (aliases.size < this.#maximum) return aliases.size + 1;
    return aliases.values().next().value;
  }

  /**
   * Records that the client was sent the topic with the alias (as
   * `candidate` gave it): the topic that held the alias loses it.
   */
  assign(topic: string, alias: number): void {
    const aliases = this.#aliases;
    if (aliases.size >= this.#maximum) {
      const oldest = aliases.keys().next().value;
      if (oldest !== undefined) aliases.delete(oldest);
    }
    aliases.set(topic, alias);
  }
}
