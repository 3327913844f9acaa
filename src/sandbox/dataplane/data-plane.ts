import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  CoreV1Api,
  DiscoveryV1Api,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
  NetworkingV1Api,
  type V1ConfigMap,
  type V1EndpointSlice,
  type V1Ingress,
  type V1Pod,
  type V1Service,
  Watch,
} from "@kubernetes/client-node";
import type { LoadBalancerModel } from "../../infra/load-balancer-model.js";
import { WORKLOAD } from "../../infra/workload-names.js";
import { EndpointPortMap, findServicePort, readyBackendPorts } from "./endpoint-map.js";
import { buildIngressModel } from "./ingress-model.js";
import { apiStatus, ignoreStatus, sleep } from "./kube-util.js";
import { sandboxLoadBalancerIngress } from "./lb-url.js";
import { LoadBalancer } from "./load-balancer.js";
import type { Log } from "./log.js";
import { nginxSettingsFromConfigMap, renderNginxConfig } from "./nginx-config.js";
import { renderBackends } from "./nginx-dynamic-backends.js";
import { type NginxRender, PodProcess } from "./pod-process.js";
import {
  isPodReady,
  isTerminating,
  type PodRole,
  podRole,
  servingPort,
  terminationPlan,
} from "./pod-spec.js";
import { loadBalancerModelOf, type SandboxBalancer, sandboxBalancer } from "./service-timings.js";
import { ProcessSupervisor, reapStaleProcesses } from "./supervisor.js";
import { type Clock, realClock, runTermination } from "./termination.js";

// The sandbox data plane: real processes for the pods that carry the workload's traffic,
// driven by the API like a kubelet + kube-proxy + cloud load balancer would be:
//   Ready NGINX ingress pod  → an nginx master on its own loopback port, configured from the
//                              Ingresses of class nginx (reloaded when that config changes),
//                              its endpoints sent without a reload, as ingress-nginx does;
//   Ready echoserver pod     → an echo server process on its own loopback port;
//   LoadBalancer Service     → HAProxy on 127.0.0.1:<lb port>, its targets the Service's
//                              ready endpoints, published in status.loadBalancer.
// Terminating pods follow the kubelet's sequence (see termination.ts); once a pod's process
// has exited the pod object is deleted with grace 0, as the kubelet does.

export interface DataPlaneOptions {
  kc: KubeConfig;
  /** Root of everything the data plane writes (pods/, lb/, pids/, logs/). */
  dir: string;
  /** Marker every child's command line carries (the sandbox state dir). */
  stateDir: string;
  namespace: string;
  timeFactor: number;
  lbPort: number;
  nginxBinary: string;
  haproxyBinary: string;
  log: Log;
  clock?: Clock;
  /** Delete a pod's object once its process has exited (kubelet behaviour). Default true. */
  finalizePods?: boolean;
  onChange?: () => void;
  /** Mirrors the balancer's targets into an ELBv2 API (the sandbox's moto). */
  targets?: TargetMirror;
}

/** Receives the balancer's registrations with the pod IP and port they stand for. */
export interface TargetMirror {
  /** The Service's load-balancer model (target group settings). */
  setModel?(model: LoadBalancerModel): void;
  registered(target: { ip: string; port: number }): void;
  drained(target: { ip: string; port: number }): void;
}

interface PodEntry {
  uid: string;
  namespace: string;
  name: string;
  role: PodRole;
  podIP: string;
  containerPort: number;
  proc: PodProcess;
  phase: "starting" | "serving" | "terminating" | "failed";
  started: Promise<void>;
  lastPod: V1Pod;
  lastConfig?: string;
  /** nginx: the endpoint lists it should have, what it last acknowledged, a send in flight. */
  wantBackends?: string;
  sentBackends?: string;
  sending?: boolean;
}

export interface DataPlanePodStatus {
  namespace: string;
  name: string;
  role: PodRole;
  podIP: string;
  containerPort: number;
  loopbackPort: number;
  phase: PodEntry["phase"];
  pid?: number;
}

export interface DataPlaneStatus {
  lbUrl: string;
  lbPort: number;
  lbBackends: number[];
  /** "podIP:containerPort" → loopback port. */
  endpoints: Record<string, number>;
  pods: DataPlanePodStatus[];
}

type Informer<T extends KubernetesObject> = ListWatch<T>;

/** The echo server script next to this module: .js when built, .ts when run from src/. */
function echoScript(): string {
  const js = fileURLToPath(new URL("./echo-server-main.js", import.meta.url));
  return existsSync(js) ? js : fileURLToPath(new URL("./echo-server-main.ts", import.meta.url));
}

export class DataPlane {
  private readonly core: CoreV1Api;
  private readonly map = new EndpointPortMap();
  private readonly entries = new Map<string, PodEntry>();
  private readonly supervisor: ProcessSupervisor;
  private readonly lb: LoadBalancer;
  private readonly clock: Clock;
  private readonly echoCommand: readonly [string, string];
  private readonly warned = new Set<string>();
  private informers:
    | {
        pods: Informer<V1Pod>;
        slices: Informer<V1EndpointSlice>;
        services: Informer<V1Service>;
        ingresses: Informer<V1Ingress>;
        configMaps: Informer<V1ConfigMap>;
      }
    | undefined;
  private dirty = false;
  private reconciling = false;
  private stopped = false;
  private statusForm: "ip" | "hostname" = "ip";
  private publishing = false;
  private lastStatusJson = "";
  private readonly retries = new Map<string, number>();
  private idle: Promise<void> = Promise.resolve();
  private balancerJson = "";
  /** Loopback port → the pod IP:port it stands for, kept until the target is drained. */
  private readonly targetOf = new Map<number, { ip: string; port: number }>();

  constructor(private readonly o: DataPlaneOptions) {
    this.core = o.kc.makeApiClient(CoreV1Api);
    this.clock = o.clock ?? realClock;
    this.supervisor = new ProcessSupervisor(join(o.dir, "pids"), join(o.dir, "logs"), o.log);
    this.lb = new LoadBalancer({
      dir: join(o.dir, "lb"),
      listenPort: o.lbPort,
      supervisor: this.supervisor,
      haproxyBinary: o.haproxyBinary,
      log: o.log,
      hardStopAfterMs: 10_000,
      // Until the Service is seen: an NLB with AWS's defaults.
      balancer: sandboxBalancer(loadBalancerModelOf(undefined), o.timeFactor),
      targets: {
        registered: (port) => {
          const t = this.targetFor(port);
          if (t) {
            this.targetOf.set(port, t);
            this.o.targets?.registered(t);
          }
        },
        drained: (port) => {
          const t = this.targetOf.get(port);
          this.targetOf.delete(port);
          if (t) this.o.targets?.drained(t);
        },
      },
    });
    this.echoCommand = [process.execPath, echoScript()];
  }

  /** The pod IP and container port a loopback port serves (from the endpoint map). */
  private targetFor(port: number): { ip: string; port: number } | undefined {
    for (const [key, p] of Object.entries(this.map.snapshot())) {
      if (p !== port) continue;
      const i = key.lastIndexOf(":");
      return { ip: key.slice(0, i), port: Number(key.slice(i + 1)) };
    }
    return undefined;
  }

  lbUrl(): string {
    return `http://127.0.0.1:${this.lb.listenPort}`;
  }

  endpointMap(): Record<string, number> {
    return this.map.snapshot();
  }

  status(): DataPlaneStatus {
    return {
      lbUrl: this.lbUrl(),
      lbPort: this.lb.listenPort,
      lbBackends: this.lb.activePorts(),
      endpoints: this.map.snapshot(),
      pods: [...this.entries.values()]
        .map((e) => ({
          namespace: e.namespace,
          name: e.name,
          role: e.role,
          podIP: e.podIP,
          containerPort: e.containerPort,
          loopbackPort: e.proc.port,
          phase: e.phase,
          pid: e.proc.pid,
        }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    };
  }

  async start(): Promise<void> {
    mkdirSync(this.o.dir, { recursive: true, mode: 0o700 });
    await reapStaleProcesses(join(this.o.dir, "pids"), this.o.stateDir, this.o.log);
    await this.lb.start();
    this.o.log.info({ url: this.lbUrl() }, "load balancer listening");
    const ns = this.o.namespace;
    const watch = new Watch(this.o.kc);
    const discovery = this.o.kc.makeApiClient(DiscoveryV1Api);
    const networking = this.o.kc.makeApiClient(NetworkingV1Api);
    const mk = <T extends KubernetesObject>(
      path: string,
      listFn: () => Promise<KubernetesListObject<T>>,
      fieldSelector?: string,
    ) => {
      const inf = new ListWatch<T>(path, watch, listFn, false, undefined, fieldSelector);
      inf.on("add", () => this.kick());
      inf.on("update", () => this.kick());
      inf.on("delete", () => this.kick());
      inf.on("error", (err: unknown) => {
        if (this.stopped) return;
        this.o.log.warn({ path, err: String(err) }, "watch failed; restarting");
        void sleep(500).then(() => {
          if (!this.stopped) void inf.start().catch(() => {});
        });
      });
      return inf;
    };
    const cmSelector = `metadata.name=${WORKLOAD.nginx.name}`;
    this.informers = {
      pods: mk<V1Pod>(`/api/v1/namespaces/${ns}/pods`, () =>
        this.core.listNamespacedPod({ namespace: ns }),
      ),
      slices: mk<V1EndpointSlice>(`/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, () =>
        discovery.listNamespacedEndpointSlice({ namespace: ns }),
      ),
      services: mk<V1Service>(`/api/v1/namespaces/${ns}/services`, () =>
        this.core.listNamespacedService({ namespace: ns }),
      ),
      ingresses: mk<V1Ingress>(`/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses`, () =>
        networking.listNamespacedIngress({ namespace: ns }),
      ),
      configMaps: mk<V1ConfigMap>(
        `/api/v1/namespaces/${ns}/configmaps`,
        () => this.core.listNamespacedConfigMap({ namespace: ns, fieldSelector: cmSelector }),
        cmSelector,
      ),
    };
    await Promise.all(Object.values(this.informers).map((i) => i.start()));
    this.kick();
  }

  /** Resolves when the reconcile loop is idle (tests and shutdown). */
  settled(): Promise<void> {
    return this.idle;
  }

  private kick(): void {
    this.dirty = true;
    if (this.reconciling || this.stopped) return;
    this.reconciling = true;
    this.idle = (async () => {
      try {
        while (this.dirty && !this.stopped) {
          this.dirty = false;
          try {
            await this.reconcile();
          } catch (err) {
            this.o.log.error({ err: String(err) }, "data plane reconcile failed");
            await sleep(200);
            this.dirty = true;
          }
        }
      } finally {
        this.reconciling = false;
      }
    })();
  }

  private warnOnce(key: string, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.o.log.warn(msg);
  }

  private async reconcile(): Promise<void> {
    const inf = this.informers;
    if (!inf) return;
    const ns = this.o.namespace;
    const pods = inf.pods.list(ns);
    const seen = new Set<string>();

    for (const pod of pods) {
      const role = podRole(pod);
      const uid = pod.metadata?.uid;
      if (!role || !uid) continue;
      seen.add(uid);
      const entry = this.entries.get(uid);
      if (entry) entry.lastPod = pod;
      if (isTerminating(pod)) {
        if (entry && entry.phase !== "terminating" && entry.phase !== "failed") {
          this.terminate(entry, pod);
        }
      } else if (!entry && isPodReady(pod)) {
        this.startPod(pod, role, uid);
      }
    }
    for (const entry of [...this.entries.values()]) {
      if (seen.has(entry.uid) || entry.phase === "terminating") continue;
      if (entry.phase === "failed") {
        this.entries.delete(entry.uid);
        continue;
      }
      // Gone without a graceful deletion we saw (forced, grace 0, or its node's pods
      // collected): the processes die now, as they would with their instance.
      const last = entry.lastPod;
      const grace = last.metadata?.deletionGracePeriodSeconds ?? 0;
      this.terminate(entry, {
        ...last,
        metadata: { ...last.metadata, deletionGracePeriodSeconds: grace },
      });
    }

    // NGINX pods: one shared model, rendered per pod (only the listen port differs).
    const model = buildIngressModel({
      ingressClass: WORKLOAD.ingressClass,
      ingresses: inf.ingresses.list(ns),
      services: inf.services.list(ns),
      slices: inf.slices.list(ns),
      map: this.map,
    });
    for (const w of model.warnings) this.warnOnce(`ingress:${w}`, w);
    for (const e of this.entries.values()) {
      if (e.role !== "nginx" || e.phase !== "serving") continue;
      const { conf, backends } = this.renderNginx(e, e.proc.port, e.proc.adminPort);
      // A reload only when the config changes (Ingresses, ConfigMap); endpoints go over the
      // configuration port, as ingress-nginx sends them.
      if (conf !== e.lastConfig) {
        e.lastConfig = conf;
        e.proc.reload(conf);
        this.o.log.info({ pod: e.name }, "nginx config changed; reloaded");
      }
      e.wantBackends = backends;
      this.sendBackends(e);
    }

    // The load balancer follows the ingress Service's ready endpoints.
    const svc = inf.services.get(WORKLOAD.nginx.name, ns);
    const sp = findServicePort(svc, { number: WORKLOAD.nginx.httpPort });
    const ports =
      svc && sp ? readyBackendPorts(inf.slices.list(ns), WORKLOAD.nginx.name, sp, this.map) : [];
    if (svc) {
      const model = loadBalancerModelOf(svc);
      this.o.targets?.setModel?.(model);
      await this.configureBalancer(sandboxBalancer(model, this.o.timeFactor));
    }
    await this.lb.setBackends(ports);
    if (svc) this.publishStatus(svc);
    this.writeStatus();
  }

  private async configureBalancer(b: SandboxBalancer): Promise<void> {
    const json = JSON.stringify(b);
    if (json === this.balancerJson) return;
    this.balancerJson = json;
    await this.lb.configure(b);
  }

  /** Sends an nginx pod the endpoint lists it should have: one send at a time, the latest. */
  private sendBackends(e: PodEntry): void {
    if (e.sending || e.wantBackends === e.sentBackends || e.wantBackends === undefined) return;
    const body = e.wantBackends;
    e.sending = true;
    e.proc.setBackends(body).then(
      () => {
        e.sending = false;
        e.sentBackends = body;
        this.o.log.info({ pod: e.name }, "nginx endpoints updated");
        this.sendBackends(e);
      },
      (err: unknown) => {
        e.sending = false;
        if (e.phase !== "serving") return;
        this.o.log.warn({ pod: e.name, err: String(err) }, "nginx endpoints not sent; retrying");
        setTimeout(() => this.sendBackends(e), 200).unref();
      },
    );
  }

  private renderNginx(e: PodEntry, port: number, adminPort: number): NginxRender {
    const inf = this.informers;
    const ns = this.o.namespace;
    const cm = inf?.configMaps.get(WORKLOAD.nginx.name, ns);
    const { settings, warnings } = nginxSettingsFromConfigMap(cm?.data, this.o.timeFactor);
    for (const w of warnings) this.warnOnce(`cm:${w}`, w);
    const model = buildIngressModel({
      ingressClass: WORKLOAD.ingressClass,
      ingresses: inf?.ingresses.list(ns) ?? [],
      services: inf?.services.list(ns) ?? [],
      slices: inf?.slices.list(ns) ?? [],
      map: this.map,
    });
    const dir = e.proc.dir;
    const conf = renderNginxConfig({
      model,
      settings,
      listenPort: port,
      adminPort,
      containerPort: e.containerPort,
      dir,
      pidFile: join(dir, "nginx.pid"),
      errorLog: join(dir, "logs", "error.log"),
      podName: `${e.namespace}/${e.name}`,
      runAsRoot: process.getuid?.() === 0,
    });
    return { conf, backends: renderBackends(model) };
  }

  private startPod(pod: V1Pod, role: PodRole, uid: string): void {
    const ns = pod.metadata?.namespace ?? this.o.namespace;
    const name = pod.metadata?.name ?? uid;
    const { port: containerPort } = servingPort(pod, role);
    const proc = new PodProcess({
      role,
      uid,
      namespace: ns,
      name,
      dir: join(this.o.dir, "pods", `${ns}_${name}_${uid.slice(0, 8)}`),
      containerPort,
      nginxBinary: this.o.nginxBinary,
      echoCommand: this.echoCommand,
      stateDir: this.o.stateDir,
    });
    const entry: PodEntry = {
      uid,
      namespace: ns,
      name,
      role,
      podIP: pod.status?.podIP ?? "",
      containerPort,
      proc,
      phase: "starting",
      lastPod: pod,
      started: Promise.resolve(),
    };
    this.entries.set(uid, entry);
    entry.started = (async () => {
      try {
        await proc.start(
          this.supervisor,
          role === "nginx"
            ? (port, adminPort) => {
                const r = this.renderNginx(entry, port, adminPort);
                entry.lastConfig = r.conf;
                entry.sentBackends = r.backends;
                entry.wantBackends = r.backends;
                return r;
              }
            : undefined,
        );
      } catch (err) {
        entry.phase = "failed";
        const attempt = (this.retries.get(uid) ?? 0) + 1;
        this.retries.set(uid, attempt);
        this.o.log.error({ pod: name, attempt, err: String(err) }, "pod process failed to start");
        // Back off like a kubelet's CrashLoopBackOff (bounded), then let reconcile retry.
        if (attempt < 5) {
          await sleep(500 * 2 ** attempt);
          if (this.entries.get(uid) === entry) this.entries.delete(uid);
          this.kick();
        }
        return;
      }
      this.retries.delete(uid);
      this.map.set({
        uid,
        podIP: entry.podIP,
        containerPort,
        loopbackPort: proc.port,
        accepting: entry.phase === "starting",
      });
      if (entry.phase === "starting") entry.phase = "serving";
      this.o.log.info(
        { pod: name, role, podIP: entry.podIP, port: proc.port, pid: proc.pid },
        "pod process serving",
      );
      this.kick();
    })();
  }

  private terminate(entry: PodEntry, pod: V1Pod): void {
    const wasStarting = entry.phase === "starting";
    entry.phase = "terminating";
    const plan = terminationPlan(pod, entry.role, this.o.timeFactor);
    if (plan.preStop.source === "unrecognised") {
      this.warnOnce(
        `prestop:${entry.name}`,
        `pod ${entry.name}: preStop hook "${plan.preStop.detail}" is not a sleep; the sandbox runs no wait for it`,
      );
    }
    this.o.log.info(
      { pod: entry.name, port: entry.proc.port, preStopMs: plan.preStopMs, graceMs: plan.graceMs },
      plan.graceMs === 0 ? "pod deleted with grace 0: killing" : "pod terminating",
    );
    const stopAccepting = () => {
      this.map.setAccepting(entry.uid, false);
      this.kick();
    };
    void (async () => {
      if (wasStarting) await entry.started;
      const outcome = await runTermination(
        plan,
        {
          exited: entry.proc.exited,
          gracefulStop: () => {
            this.o.log.info({ pod: entry.name, port: entry.proc.port }, "graceful stop sent");
            stopAccepting();
            entry.proc.gracefulStop();
          },
          kill: () => {
            this.o.log.info({ pod: entry.name, port: entry.proc.port }, "SIGKILL sent");
            stopAccepting();
            entry.proc.kill();
          },
        },
        this.clock,
        (phase) => this.o.log.debug({ pod: entry.name, phase }, "termination phase"),
      );
      this.map.delete(entry.uid);
      this.entries.delete(entry.uid);
      this.o.log.info({ pod: entry.name, outcome }, "pod process stopped");
      this.kick();
      if (this.o.finalizePods !== false && !this.stopped) {
        await ignoreStatus(
          () =>
            this.core.deleteNamespacedPod({
              name: entry.name,
              namespace: entry.namespace,
              gracePeriodSeconds: 0,
              body: { gracePeriodSeconds: 0, preconditions: { uid: entry.uid } },
            }),
          404,
          409,
        ).catch((err: unknown) => {
          this.o.log.warn(
            { pod: entry.name, err: String(err) },
            "could not delete the stopped pod",
          );
        });
      }
    })();
  }

  private publishStatus(svc: V1Service): void {
    if (svc.spec?.type !== "LoadBalancer" || this.publishing) return;
    const want = sandboxLoadBalancerIngress(this.lb.listenPort, this.statusForm);
    const have = svc.status?.loadBalancer?.ingress ?? [];
    const h = have[0];
    if (
      have.length === 1 &&
      h?.ip === want.ip &&
      h?.hostname === want.hostname &&
      h?.ports?.[0]?.port === want.ports?.[0]?.port
    ) {
      return;
    }
    this.publishing = true;
    const name = svc.metadata?.name ?? WORKLOAD.nginx.name;
    const namespace = svc.metadata?.namespace ?? this.o.namespace;
    void (async () => {
      try {
        await this.core.patchNamespacedServiceStatus({
          name,
          namespace,
          body: [{ op: "add", path: "/status/loadBalancer", value: { ingress: [want] } }],
        });
        this.o.log.info(
          { service: name, ingress: want },
          "load balancer published in Service status",
        );
      } catch (err) {
        if (apiStatus(err) === 422 && this.statusForm === "ip") {
          this.o.log.warn(
            { err: String(err) },
            "API refused a loopback IP in status.loadBalancer; publishing hostname localhost",
          );
          this.statusForm = "hostname";
        } else {
          this.o.log.warn({ err: String(err) }, "could not publish the load balancer status");
          await sleep(500);
        }
      } finally {
        this.publishing = false;
        this.kick();
      }
    })();
  }

  private writeStatus(): void {
    const json = JSON.stringify(this.status(), null, 2);
    if (json === this.lastStatusJson) return;
    this.lastStatusJson = json;
    const file = join(this.o.dir, "status.json");
    writeFileSync(`${file}.tmp`, `${json}\n`);
    renameSync(`${file}.tmp`, file);
    this.o.onChange?.();
  }

  /** Stops watching and stops every process (fast: the sandbox is going away). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.informers) await Promise.all(Object.values(this.informers).map((i) => i.stop()));
    await this.idle.catch(() => {});
    await this.lb.stop();
    await this.supervisor.stopAll(2_000, "SIGTERM");
  }
}
