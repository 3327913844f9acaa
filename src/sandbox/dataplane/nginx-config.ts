import type { IngressModel, Location } from "./ingress-model.js";
import { configServerLines, luaHttpLines, proxyBody } from "./nginx-dynamic-backends.js";

// nginx.conf for one NGINX ingress pod of the sandbox: what ingress-nginx's template renders
// for the same Ingress objects (server per host, Prefix → `location /p/` + `location = /p`,
// Exact → `location = /p`, the same proxy headers, upstream keepalive, proxy_next_upstream,
// /healthz and a 404 default backend), listening on the pod's loopback port. Settings come
// from the controller's ConfigMap keys (ingress-nginx names and defaults). Endpoints are not
// part of the config: they arrive without a reload (nginx-dynamic-backends.ts).

export interface NginxSettings {
  workerProcesses: number;
  workerConnections: number;
  /** Already scaled by the time factor. */
  workerShutdownTimeoutSeconds: number;
  keepAliveSeconds: number;
  keepAliveRequests: number;
  /** nginx keepalive_time (max age of a client connection), already scaled; 0 = unset. */
  keepAliveTimeSeconds: number;
  upstreamKeepaliveConnections: number;
  upstreamKeepaliveTimeoutSeconds: number;
  upstreamKeepaliveRequests: number;
  proxyNextUpstream: string;
  proxyNextUpstreamTries: number;
  proxyConnectTimeoutSeconds: number;
  proxyReadTimeoutSeconds: number;
  proxySendTimeoutSeconds: number;
}

/** ingress-nginx defaults, except one worker per pod (every pod shares this machine). */
export const DEFAULT_NGINX_SETTINGS: NginxSettings = {
  workerProcesses: 1,
  workerConnections: 16384,
  workerShutdownTimeoutSeconds: 240,
  keepAliveSeconds: 75,
  keepAliveRequests: 1000,
  keepAliveTimeSeconds: 0,
  upstreamKeepaliveConnections: 320,
  upstreamKeepaliveTimeoutSeconds: 60,
  upstreamKeepaliveRequests: 10000,
  proxyNextUpstream: "error timeout",
  proxyNextUpstreamTries: 3,
  proxyConnectTimeoutSeconds: 5,
  proxyReadTimeoutSeconds: 60,
  proxySendTimeoutSeconds: 60,
};

const NEXT_UPSTREAM_TOKENS = new Set([
  "error",
  "timeout",
  "invalid_header",
  "http_500",
  "http_502",
  "http_503",
  "http_504",
  "http_403",
  "http_404",
  "http_429",
  "non_idempotent",
  "off",
]);

/** Settings from the controller ConfigMap's data; bad values keep the default (+ warning). */
export function nginxSettingsFromConfigMap(
  data: Record<string, string> | undefined,
  timeFactor: number,
): { settings: NginxSettings; warnings: string[] } {
  const s: NginxSettings = { ...DEFAULT_NGINX_SETTINGS };
  const warnings: string[] = [];
  const d = data ?? {};
  const int = (key: string, field: keyof NginxSettings, min = 0) => {
    const raw = d[key];
    if (raw === undefined) return;
    const n = Number(raw.replace(/s$/, ""));
    if (!Number.isInteger(n) || n < min) {
      warnings.push(`ConfigMap key ${key}="${raw}" is not an integer ≥ ${min}; using the default`);
      return;
    }
    (s as unknown as Record<string, number>)[field] = n;
  };
  int("worker-processes", "workerProcesses", 1);
  int("max-worker-connections", "workerConnections", 16);
  int("worker-shutdown-timeout", "workerShutdownTimeoutSeconds");
  int("keep-alive", "keepAliveSeconds");
  int("keep-alive-requests", "keepAliveRequests", 1);
  int("upstream-keepalive-connections", "upstreamKeepaliveConnections");
  int("upstream-keepalive-timeout", "upstreamKeepaliveTimeoutSeconds");
  int("upstream-keepalive-requests", "upstreamKeepaliveRequests", 1);
  int("proxy-next-upstream-tries", "proxyNextUpstreamTries");
  int("proxy-connect-timeout", "proxyConnectTimeoutSeconds", 1);
  int("proxy-read-timeout", "proxyReadTimeoutSeconds", 1);
  int("proxy-send-timeout", "proxySendTimeoutSeconds", 1);
  const pnu = d["proxy-next-upstream"];
  if (pnu !== undefined) {
    const tokens = pnu.trim().split(/\s+/);
    if (tokens.length > 0 && tokens.every((t) => NEXT_UPSTREAM_TOKENS.has(t)))
      s.proxyNextUpstream = tokens.join(" ");
    else
      warnings.push(`ConfigMap key proxy-next-upstream="${pnu}" is not valid; using the default`);
  }
  // ingress-nginx passes `http-snippet` into the http block verbatim; the sandbox honours the
  // one directive the derived shutdown puts there (keepalive_time) and says so for the rest.
  const snippet = d["http-snippet"];
  if (snippet !== undefined) {
    for (const stmt of snippet
      .split(";")
      .map((x) => x.trim())
      .filter(Boolean)) {
      const m = /^keepalive_time\s+(\d+)s?$/.exec(stmt);
      if (m) s.keepAliveTimeSeconds = Math.max(1, Math.round(Number(m[1]) * timeFactor));
      else warnings.push(`ConfigMap key http-snippet: "${stmt}" is not run by the sandbox`);
    }
  }
  // A graceful stop is bounded by the pod's grace period anyway; scale like every timing.
  s.workerShutdownTimeoutSeconds = Math.max(
    1,
    Math.round(s.workerShutdownTimeoutSeconds * timeFactor),
  );
  return { settings: s, warnings };
}

export interface NginxPodConfigInput {
  model: IngressModel;
  settings: NginxSettings;
  /** Loopback port this pod listens on. */
  listenPort: number;
  /** Loopback port of the configuration listener (endpoint lists are POSTed there). */
  adminPort: number;
  /** nginx's dynamic modules (Debian: /usr/lib/nginx/modules; ndk + lua). */
  modulesDir?: string;
  /** The pod's container port (what X-Forwarded-Port says, as in the cluster). */
  containerPort: number;
  /** The pod's own directory (temp paths live below it). */
  dir: string;
  pidFile: string;
  errorLog: string;
  podName: string;
  /** nginx started as root switches workers to `nobody`, who cannot reach a private state
   * dir; keep the workers on the invoking user. */
  runAsRoot: boolean;
}

interface LocationLine {
  match: string;
  body: string;
  /** Lower wins when two rules produce the same nginx location (Exact beats Prefix's `=`). */
  rank: number;
}

function locationLines(loc: Location): LocationLine[] {
  // A Service (port) that does not exist: 503 in the config. One without ready endpoints:
  // 503 from the Lua balancer, without a reload when endpoints come back.
  const body = loc.upstream ? proxyBody(loc.upstream.name) : "return 503;";
  switch (loc.pathType) {
    case "Exact":
      return [{ match: `= ${loc.path}`, body, rank: 0 }];
    case "Prefix": {
      if (loc.path === "/") return [{ match: "/", body, rank: 1 }];
      const base = loc.path.replace(/\/+$/, "");
      return [
        { match: `= ${base}`, body, rank: 1 },
        { match: `${base}/`, body, rank: 1 },
      ];
    }
    default:
      return [{ match: loc.path, body, rank: 2 }];
  }
}

const DEFAULT_BACKEND_404: LocationLine = {
  match: "/",
  body: 'return 404 "default backend - 404\\n";',
  rank: 9,
};

/** One server's location blocks: unique matches, most specific rule first, sorted. */
function serverLocations(lines: LocationLine[]): string[] {
  const byMatch = new Map<string, LocationLine>();
  for (const l of [...lines].sort((a, b) => a.rank - b.rank)) {
    if (!byMatch.has(l.match)) byMatch.set(l.match, l);
  }
  return [...byMatch.values()]
    .sort((a, b) => a.match.localeCompare(b.match))
    .map((l) => `    location ${l.match} { ${l.body} }`);
}

export const DEBIAN_NGINX_MODULES = "/usr/lib/nginx/modules";

export function renderNginxConfig(i: NginxPodConfigInput): string {
  const s = i.settings;
  const lua = luaHttpLines(s, i.modulesDir ?? DEBIAN_NGINX_MODULES);
  const listen = `127.0.0.1:${i.listenPort}`;
  const hosts = i.model.hosts.filter((h) => h.host !== "_");
  const defaultHost = i.model.hosts.find((h) => h.host === "_");
  const defaultLocations = serverLocations([
    {
      match: "= /healthz",
      body: "access_log off; content_by_lua_block { eks_lb.healthz() }",
      rank: -1,
    },
    ...(defaultHost?.locations.flatMap(locationLines) ?? []),
    ...(i.model.defaultBackend
      ? locationLines({ ...i.model.defaultBackend, path: "/", pathType: "Prefix" }).map((l) => ({
          ...l,
          rank: 8,
        }))
      : []),
    DEFAULT_BACKEND_404,
  ]);
  const lines = [
    `# Generated by the eks-runbook sandbox data plane for pod ${i.podName}. Do not edit.`,
    ...lua.main,
    ...(i.runAsRoot ? ["user root;"] : []),
    `worker_processes ${s.workerProcesses};`,
    `worker_shutdown_timeout ${s.workerShutdownTimeoutSeconds}s;`,
    `pid ${i.pidFile};`,
    `error_log ${i.errorLog} notice;`,
    "events {",
    `  worker_connections ${s.workerConnections};`,
    "  multi_accept on;",
    "}",
    "http {",
    // Per-request access logs would cost the traffic more CPU than the proxying; the load
    // generator counts every request anyway.
    "  access_log off;",
    "  server_tokens off;",
    `  client_body_temp_path ${i.dir}/tmp/client_body;`,
    `  proxy_temp_path ${i.dir}/tmp/proxy;`,
    `  fastcgi_temp_path ${i.dir}/tmp/fastcgi;`,
    `  uwsgi_temp_path ${i.dir}/tmp/uwsgi;`,
    `  scgi_temp_path ${i.dir}/tmp/scgi;`,
    "  default_type text/plain;",
    `  keepalive_timeout ${s.keepAliveSeconds}s;`,
    `  keepalive_requests ${s.keepAliveRequests};`,
    ...(s.keepAliveTimeSeconds > 0 ? [`  keepalive_time ${s.keepAliveTimeSeconds}s;`] : []),
    "  proxy_http_version 1.1;",
    '  proxy_set_header Connection "";',
    "  proxy_set_header Host $host;",
    "  proxy_set_header X-Request-ID $request_id;",
    "  proxy_set_header X-Real-IP $remote_addr;",
    "  proxy_set_header X-Forwarded-For $remote_addr;",
    "  proxy_set_header X-Forwarded-Host $host;",
    `  proxy_set_header X-Forwarded-Port ${i.containerPort};`,
    "  proxy_set_header X-Forwarded-Proto $scheme;",
    "  proxy_set_header X-Forwarded-Scheme $scheme;",
    "  proxy_set_header X-Scheme $scheme;",
    "  proxy_set_header X-Original-URI $request_uri;",
    "  proxy_buffering off;",
    `  proxy_connect_timeout ${s.proxyConnectTimeoutSeconds}s;`,
    `  proxy_read_timeout ${s.proxyReadTimeoutSeconds}s;`,
    `  proxy_send_timeout ${s.proxySendTimeoutSeconds}s;`,
    `  proxy_next_upstream ${s.proxyNextUpstream};`,
    `  proxy_next_upstream_tries ${s.proxyNextUpstreamTries};`,
    ...lua.http,
    ...configServerLines(i.adminPort),
    "  server {",
    `    listen ${listen} default_server backlog=4096;`,
    "    server_name _;",
    ...defaultLocations,
    "  }",
    ...hosts.flatMap((h) => [
      "  server {",
      `    listen ${listen};`,
      `    server_name ${h.host};`,
      ...serverLocations([...h.locations.flatMap(locationLines), DEFAULT_BACKEND_404]),
      "  }",
    ]),
    "}",
    "",
  ];
  return lines.join("\n");
}
