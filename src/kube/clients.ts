import {
  AppsV1Api,
  type ConfigurationOptions,
  CoreV1Api,
  type KubeConfig,
  type ObservableMiddleware,
  PolicyV1Api,
  type RequestContext,
  type ResponseContext,
} from "@kubernetes/client-node";
// client-node's Observable stub (not re-exported; pinned version, no exports map).
import { of } from "@kubernetes/client-node/dist/gen/rxjsStub.js";
import { loadKubeConfig, PooledKubeConfig } from "./kube-config.js";

/** The typed API clients the probes and ops use, sharing one KubeConfig (and its pool). */
export interface KubeClients {
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  policy: PolicyV1Api;
  /** Closes pooled connections; call once when the session ends. */
  close(): Promise<void>;
}

export function makeKubeClients(kc: KubeConfig): KubeClients {
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    policy: kc.makeApiClient(PolicyV1Api),
    close: async () => {
      if (kc instanceof PooledKubeConfig) await kc.close();
    },
  };
}

export function kubeClientsFromFile(path: string, context?: string): KubeClients {
  return makeKubeClients(loadKubeConfig(path, context));
}

/** Default bound for one API request (not a watch). */
export const REQUEST_TIMEOUT_MS = 15_000;

/**
 * Per-call options that make a typed API call abortable and bounded: a middleware that
 * sets the request's signal. The ObjectParam API hands options straight to the Observable
 * API, so the middleware returns client-node's own Observable stub.
 */
export function callOptions(
  signal: AbortSignal,
  timeoutMs = REQUEST_TIMEOUT_MS,
): ConfigurationOptions<ObservableMiddleware> {
  const combined = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
  return {
    middleware: [
      {
        pre: (ctx: RequestContext) => {
          ctx.setSignal(combined);
          return of(ctx);
        },
        post: (res: ResponseContext) => of(res),
      },
    ],
    middlewareMergeStrategy: "append",
  };
}
