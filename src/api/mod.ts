/**
 * The HTTP API of a broker: monitor, manage and publish over JSON, and
 * Prometheus metrics.
 *
 * @example Serve the API of a broker on a free local port
 * ```ts
 * import { Server, serveApi } from "@gmqtt/broker";
 *
 * const server = new Server();
 * const api = serveApi(server, { port: 0, token: "s3cret" });
 * console.log(`API on port ${api.address.port}`);
 * await api.shutdown();
 * ```
 *
 * @module
 */

export {
  apiHandler,
  type ApiOptions,
  type BasicCredentials,
} from "./handler.ts";
export {
  type ApiAddress,
  ApiServer,
  serveApi,
  type ServeApiOptions,
} from "./serve.ts";
