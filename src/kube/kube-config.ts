import { existsSync } from "node:fs";
import { KubeConfig, type RequestContext } from "@kubernetes/client-node";
import { InputError } from "../engine/errors.js";

// client-node 2.0.1 builds a new undici Agent for every request (KubeConfig.createDispatcher),
// so each call pays a fresh TLS handshake and leaves an idle socket behind. Evictions in a
// drain are many small requests; reusing one dispatcher per KubeConfig keeps them on warm
// keep-alive connections. Headers (tokens from exec plugins) are still applied per request.
export class PooledKubeConfig extends KubeConfig {
  #dispatcher: ReturnType<RequestContext["getDispatcher"]>;

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const fresh = context.getDispatcher();
    if (fresh === undefined) return;
    if (this.#dispatcher === undefined) {
      this.#dispatcher = fresh;
    } else {
      // The fresh agent never opened a socket; close it so it holds nothing.
      void fresh.close();
      context.setDispatcher(this.#dispatcher);
    }
  }

  /** Closes the shared connections (idle keep-alive sockets and open watches). */
  async close(): Promise<void> {
    const d = this.#dispatcher;
    this.#dispatcher = undefined;
    if (d) await d.destroy();
  }
}

/**
 * Loads a kubeconfig file (its current context). Bad input is an InputError naming the
 * file; the file's contents are never echoed because they may hold credentials.
 */
export function loadKubeConfig(path: string, context?: string): PooledKubeConfig {
  if (!existsSync(path)) {
    throw new InputError(
      `kubeconfig ${path} does not exist`,
      "Pass --kubeconfig with the path of a kubeconfig file (for EKS: aws eks update-kubeconfig).",
    );
  }
  const kc = new PooledKubeConfig();
  try {
    kc.loadFromFile(path);
  } catch (err) {
    const why = err instanceof Error ? err.name : "parse error";
    throw new InputError(
      `kubeconfig ${path} could not be read (${why})`,
      "Check that the file is a valid kubeconfig (kubectl --kubeconfig <file> config view).",
    );
  }
  if (context !== undefined) {
    if (!kc.getContextObject(context)) {
      throw new InputError(
        `kubeconfig ${path} has no context "${context}"`,
        "List the contexts with kubectl config get-contexts and pass one of them.",
      );
    }
    kc.setCurrentContext(context);
  }
  if (!kc.getCurrentCluster()) {
    throw new InputError(
      `kubeconfig ${path} has no current cluster`,
      "Set current-context in the file or pass a context name.",
    );
  }
  return kc;
}
