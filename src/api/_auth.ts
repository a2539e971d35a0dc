/**
 * Bearer token and basic authentication of the API.
 *
 * @module
 */

import { sameSecret } from "./_http.ts";

/** Credentials of HTTP basic authentication. */
export interface BasicCredentials {
  /** User name. */
  username: string;
  /** Password. */
  password: string;
}

/** Makes the check of a request's `Authorization` header. */
export function authorizer(
  options: { token?: string; basic?: BasicCredentials },
): (request: Request) => Promise<boolean> {
  const { token, basic } = options;
  if (token === undefined && basic === undefined) {
    return () => Promise.resolve(true);
  }
  return async (request) => {
    const header = request.headers.get("authorization") ?? "";
    const space = header.indexOf(" ");
    const scheme = header.slice(0, space).toLowerCase();
    const value = header.slice(space + 1).trim();
    if (token !== undefined && scheme === "bearer") {
      return await sameSecret(value, token);
    }
    if (basic !== undefined && scheme === "basic") {
      let decoded: string;
      try {
        decoded = new TextDecoder().decode(Uint8Array.fromBase64(value));
      } catch {
        return false;
      }
      const colon = decoded.indexOf(":");
      if (colon < 0) return false;
      const [user, password] = await Promise.all([
        sameSecret(decoded.slice(0, colon), basic.username),
        sameSecret(decoded.slice(colon + 1), basic.password),
      ]);
      return user && password;
    }
    return false;
  };
}
