/**
 * A throwaway TLS certificate for tests: self-signed, for 127.0.0.1 and
 * localhost, made with `openssl` in a temporary directory.
 *
 * @module
 */

/** A certificate and its key, as PEM text and as files. */
export interface TestCertificate {
  /** PEM certificate; also the CA to trust, since it signs itself. */
  readonly cert: string;
  /** PEM private key (P-256). */
  readonly key: string;
  /** File holding `cert`, e.g. for `mosquitto_pub --cafile`. */
  readonly certFile: string;
  /** File holding `key`. */
  readonly keyFile: string;
  /** Removes the temporary directory; safe to call twice. */
  remove(): void;
}

/**
 * Makes a self-signed certificate for 127.0.0.1 and localhost, valid for two
 * days. The directory is removed when the test module unloads (or by
 * `remove()`). Call it once per test file, at the top level, so no test
 * spends its time (or its sanitizers) on `openssl`.
 *
 * @returns The certificate.
 * @throws {Error} If `openssl` is missing or fails.
 */
export async function createTestCertificate(): Promise<TestCertificate> {
  const dir = await Deno.makeTempDir({ prefix: "gmqtt_tls_" });
  const remove = () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch {
      // Removed already.
    }
  };
  const certFile = `${dir}/cert.pem`;
  const keyFile = `${dir}/key.pem`;
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("openssl", {
      args: [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=localhost",
        // rustls refuses a CA certificate as a server's own: mark it a leaf.
        "-addext",
        "basicConstraints=critical,CA:FALSE",
        "-addext",
        "subjectAltName=IP:127.0.0.1,DNS:localhost",
        "-keyout",
        keyFile,
        "-out",
        certFile,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    remove();
    throw new Error(
      "Cannot make a test certificate: openssl is not installed (apt-get install openssl)",
      { cause: error },
    );
  }
  if (!output.success) {
    remove();
    throw new Error(
      `Cannot make a test certificate: openssl exited with ${output.code}: ${
        new TextDecoder().decode(output.stderr)
      }`,
    );
  }
  globalThis.addEventListener("unload", remove);
  return {
    cert: await Deno.readTextFile(certFile),
    key: await Deno.readTextFile(keyFile),
    certFile,
    keyFile,
    remove,
  };
}
