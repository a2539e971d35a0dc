/**
 * The cluster in the broker command: the `--cluster-redis` and
 * `--cluster-node-id` flags, and the bus the server joins the cluster with.
 *
 * @module
 */

import { RedisBus } from "../src/cluster/redis_bus.ts";
import type { BrokerConfig } from "../src/config/config.ts";
import type { Logger } from "../src/observe/logger.ts";
import { parseRedisUrl } from "../src/redis/url.ts";
import { UsageError } from "./_passwd.ts";

/** The flags, as `--help` shows them. */
export const CLUSTER_REDIS_FLAG = "--cluster-redis";
export const CLUSTER_NODE_FLAG = "--cluster-node-id";

/**
 * Applies `--cluster-redis URL` and `--cluster-node-id ID` over the file's
 * `cluster` section. A cluster keeps its state in Redis: persistence turns
 * to `redis` unless the file chose otherwise (which is refused).
 *
 * @param config The configuration, changed in place.
 * @param redis The URL flag, if given.
 * @param nodeId The node id flag, if given.
 * @throws {UsageError} If a value is not usable, or a node id comes
 * without a cluster.
 */
export function applyClusterFlags(
  config: BrokerConfig,
  redis: string | undefined,
  nodeId: string | undefined,
): void {
  if (redis !== undefined) {
    try {
      parseRedisUrl(redis);
    } catch (error) {
      throw new UsageError(
        `Cannot start broker: ${CLUSTER_REDIS_FLAG}: ${
          (error as Error).message
        }`,
      );
    }
    config.cluster = { ...config.cluster, redis };
    if (config.persistence.type === "memory") {
      config.persistence.type = "redis";
    }
  }
  if (nodeId !== undefined) {
    if (config.cluster === undefined) {
      throw new UsageError(
        `Cannot start broker: ${CLUSTER_NODE_FLAG} needs ${CLUSTER_REDIS_FLAG} (or a cluster section in the configuration file)`,
      );
    }
    if (nodeId === "" || /[\s{}]/.test(nodeId)) {
      throw new UsageError(
        `Cannot start broker: ${CLUSTER_NODE_FLAG}: expected a node id without spaces or braces, got ${
          JSON.stringify(nodeId)
        }`,
      );
    }
    config.cluster.nodeId = nodeId;
  }
  if (config.cluster !== undefined && config.persistence.type !== "redis") {
    throw new UsageError(
      `Cannot start broker: a cluster keeps sessions and retained messages in its Redis; ${config.persistence.type} persistence cannot be used with it`,
    );
  }
}

/**
 * This node's id: the configured one, or the host name and the first
 * listener's port.
 *
 * @param config The configuration, with a cluster.
 * @returns The node id.
 */
export function clusterNodeId(config: BrokerConfig): string {
  const set = config.cluster?.nodeId;
  if (set !== undefined) return set;
  const port = config.listeners[0]?.port ?? 1883;
  return `${Deno.hostname().replace(/[\s{}]/g, "-")}-${port}`;
}

/**
 * The bus of the cluster the configuration names, or `undefined` without
 * one; it connects when the server starts.
 *
 * @param config The configuration.
 * @param logger Where the bus reports.
 * @param stats This node's clients and subscriptions, for its heartbeat.
 * @returns The bus.
 */
export function clusterBus(
  config: BrokerConfig,
  logger: Logger,
  stats: () => { clients: number; subscriptions: number },
): RedisBus | undefined {
  const cluster = config.cluster;
  if (cluster === undefined) return undefined;
  return new RedisBus(cluster.redis, {
    nodeId: clusterNodeId(config),
    logger,
    stats,
  });
}
