import type { V1Container, V1Pod } from "@kubernetes/client-node";
import { WORKLOAD } from "../../infra/workload-names.js";

// What the data plane reads from a Pod: which kind of process it runs, whether it is Ready,
// which container port it serves, and the timings of its termination (preStop wait, grace
// period), exactly as a kubelet would read them.

export type PodRole = "nginx" | "echo";

export function podRole(pod: V1Pod): PodRole | undefined {
  const l = pod.metadata?.labels ?? {};
  const app = l.app ?? l["app.kubernetes.io/name"];
  if (app === WORKLOAD.nginx.appLabel) return "nginx";
  if (app === WORKLOAD.echoserver.appLabel) return "echo";
  return undefined;
}

/** Ready as the endpoints controller sees it: Ready condition True and a pod IP. */
export function isPodReady(pod: V1Pod): boolean {
  if (!pod.status?.podIP || pod.status.phase !== "Running") return false;
  return pod.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

export function isTerminating(pod: V1Pod): boolean {
  return pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null;
}

const DEFAULT_PORT: Record<PodRole, number> = {
  nginx: WORKLOAD.nginx.httpPort,
  echo: WORKLOAD.echoserver.port,
};

/** The container and port that serve HTTP: a port named "http", else the role's usual
 * port, else the first TCP port, else the role's usual port on the first container. */
export function servingPort(pod: V1Pod, role: PodRole): { container?: V1Container; port: number } {
  const containers = pod.spec?.containers ?? [];
  const all = containers.flatMap((c) =>
    (c.ports ?? [])
      .filter((p) => (p.protocol ?? "TCP") === "TCP")
      .map((p) => ({ container: c, port: p.containerPort, name: p.name })),
  );
  const pick =
    all.find((p) => p.name === "http") ?? all.find((p) => p.port === DEFAULT_PORT[role]) ?? all[0];
  if (pick) return { container: pick.container, port: pick.port };
  return { container: containers[0], port: DEFAULT_PORT[role] };
}

export interface PreStop {
  seconds: number;
  /** How the wait was found: a sleep action, a `sleep N` command, none, or a hook the
   * sandbox cannot run (it then waits 0 s and says so in the log). */
  source: "sleep-action" | "exec-sleep" | "none" | "unrecognised";
  detail?: string;
}

const SLEEP_IN_COMMAND = /(?:^|[\s;&|(])sleep\s+(\d+(?:\.\d+)?)s?(?=$|[\s;&|)])/;

export function preStopOf(container: V1Container | undefined): PreStop {
  const hook = container?.lifecycle?.preStop;
  if (!hook) return { seconds: 0, source: "none" };
  if (hook.sleep) return { seconds: Math.max(0, hook.sleep.seconds), source: "sleep-action" };
  const cmd = hook.exec?.command;
  if (cmd && cmd.length > 0) {
    const joined = cmd.join(" ");
    const m = SLEEP_IN_COMMAND.exec(joined);
    if (m) return { seconds: Number(m[1]), source: "exec-sleep", detail: joined };
    // ingress-nginx's /wait-shutdown starts nginx's graceful shutdown itself: no wait.
    return { seconds: 0, source: "unrecognised", detail: joined };
  }
  return { seconds: 0, source: "unrecognised", detail: JSON.stringify(hook) };
}

/** The grace period a kubelet applies: the one given on delete, else the pod's, else 30. */
export function gracePeriodSeconds(pod: V1Pod): number {
  return pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
}

export interface TerminationPlan {
  /** preStop wait, scaled (ms). */
  preStopMs: number;
  /** Whole grace period from the start of termination, scaled (ms); 0 = kill at once. */
  graceMs: number;
  preStop: PreStop;
}

/** The pod's termination timings scaled by the sandbox time factor. */
export function terminationPlan(pod: V1Pod, role: PodRole, timeFactor: number): TerminationPlan {
  const { container } = servingPort(pod, role);
  const preStop = preStopOf(container);
  const grace = gracePeriodSeconds(pod);
  return {
    preStop,
    preStopMs: Math.round(preStop.seconds * 1000 * timeFactor),
    graceMs: grace <= 0 ? 0 : Math.round(grace * 1000 * timeFactor),
  };
}
