/**
 * Counting the levels of a topic name or filter without splitting it.
 *
 * @module
 */

/** Levels of a topic name or filter: one more than its "/" characters. */
export function topicLevels(topic: string): number {
  let levels = 1;
  for (
    let at = topic.indexOf("/");
    at !== -1;
    at = topic.indexOf("/", at + 1)
  ) {
    levels++;
  }
  return levels;
}

/**
 * Levels of a topic filter, without the `$share/{name}/` prefix of a shared
 * subscription.
 */
export function filterLevels(filter: string): number {
  if (!filter.startsWith("$share/")) return topicLevels(filter);
  const at = filter.indexOf("/", 7);
  return at === -1 ? 1 : topicLevels(filter.slice(at + 1));
}

/** Whether a topic name is under `$SYS`, which only the server publishes to. */
export function isSysTopic(topic: string): boolean {
  return topic.startsWith("$SYS") && (topic.length === 4 || topic[4] === "/");
}
