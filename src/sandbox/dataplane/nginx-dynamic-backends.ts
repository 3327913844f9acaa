import { request } from "node:http";
import type { IngressModel } from "./ingress-model.js";

// Endpoints reach the sandbox's nginx the way they reach ingress-nginx's: without a reload.
// ingress-nginx renders one `upstream_balancer` whose peer a Lua balancer picks per request
// from endpoint lists the controller POSTs to nginx (`/configuration/backends` on a local
// port); it reloads nginx only when the rendered config changes. Reloading on every endpoint
// change, as the sandbox once did, closes idle keep-alive client connections each time and
// opens keep-alive races production does not have.
// https://kubernetes.github.io/ingress-nginx/how-it-works/#avoiding-reloads-on-endpoints-changes

/** The one upstream every proxied location uses; Lua picks the peer. */
export const BALANCER_UPSTREAM = "upstream_balancer";
export const BACKENDS_PATH = "/configuration/backends";
/** Shared memory zone holding the endpoint lists (kept across reloads: same name and size). */
const ZONE = "eks_backends";

/** The body POSTed to BACKENDS_PATH: one line per upstream, `name host:port …` (sorted). */
export function renderBackends(model: Pick<IngressModel, "upstreams">): string {
  return model.upstreams
    .map((u) => [u.name, ...u.ports.map((p) => `127.0.0.1:${p}`)].join(" "))
    .sort()
    .map((l) => `${l}\n`)
    .join("");
}

/** http-block lines: the zone, the Lua functions, the balancer upstream. */
export function luaHttpLines(
  s: {
    upstreamKeepaliveConnections: number;
    upstreamKeepaliveTimeoutSeconds: number;
    upstreamKeepaliveRequests: number;
  },
  modulesDir: string,
): { main: string[]; http: string[] } {
  return {
    main: [
      `load_module ${modulesDir}/ndk_http_module.so;`,
      `load_module ${modulesDir}/ngx_http_lua_module.so;`,
    ],
    http: [
      `  lua_shared_dict ${ZONE} 1m;`,
      "  init_by_lua_block {",
      "    eks_lb = { parsed = {} }",
      // Rewrite phase: the request's endpoint list, fixed for all its tries; no endpoint
      // → 503, as ingress-nginx answers for a backend without ready endpoints.
      "    function eks_lb.route()",
      `      local raw = ngx.shared.${ZONE}:get(ngx.var.proxy_upstream_name)`,
      '      if raw == nil or raw == "" then return ngx.exit(503) end',
      "      local cached = eks_lb.parsed[ngx.var.proxy_upstream_name]",
      "      if cached == nil or cached.raw ~= raw then",
      "        local eps = {}",
      '        for host, port in raw:gmatch("(%S+):(%d+)") do eps[#eps + 1] = { host, tonumber(port) } end',
      "        cached = { raw = raw, eps = eps }",
      "        eks_lb.parsed[ngx.var.proxy_upstream_name] = cached",
      "      end",
      "      ngx.ctx.eks_eps = cached.eps",
      "    end",
      // Round robin over the list; every failed try may go to the next peer (nginx still
      // caps the tries at proxy_next_upstream_tries), as ingress-nginx's balancer does.
      "    function eks_lb.balance()",
      '      local b = require("ngx.balancer")',
      "      local eps = ngx.ctx.eks_eps",
      `      local n = ngx.shared.${ZONE}:incr("rr:" .. ngx.var.proxy_upstream_name, 1, 0)`,
      "      local ep = eps[(n % #eps) + 1]",
      "      b.set_more_tries(1)",
      "      local ok, err = b.set_current_peer(ep[1], ep[2])",
      '      if not ok then ngx.log(ngx.ERR, "set_current_peer: ", err); return ngx.exit(500) end',
      "    end",
      // The controller's POST: replaces every list (upstreams not named are removed).
      "    function eks_lb.configure()",
      "      ngx.req.read_body()",
      '      local body = ngx.req.get_body_data() or ""',
      `      local zone = ngx.shared.${ZONE}`,
      "      local seen = {}",
      '      for line in body:gmatch("[^\\n]+") do',
      '        local name, rest = line:match("^(%S+)%s*(.*)$")',
      "        if name then zone:set(name, rest); seen[name] = true end",
      "      end",
      '      for name in (zone:get("__names") or ""):gmatch("%S+") do',
      "        if not seen[name] then zone:delete(name) end",
      "      end",
      "      local names = {}",
      "      for name in pairs(seen) do names[#names + 1] = name end",
      '      zone:set("__names", table.concat(names, " "))',
      '      zone:set("__initialized", true)',
      "      ngx.status = 201",
      "    end",
      // Ready only once endpoints are known (ingress-nginx's health check also waits for
      // its dynamic configuration).
      "    function eks_lb.healthz()",
      `      if ngx.shared.${ZONE}:get("__initialized") then return ngx.exit(200) end`,
      "      return ngx.exit(503)",
      "    end",
      "  }",
      `  upstream ${BALANCER_UPSTREAM} {`,
      "    server 0.0.0.1; # placeholder: eks_lb.balance() picks the peer",
      "    balancer_by_lua_block { eks_lb.balance() }",
      `    keepalive ${s.upstreamKeepaliveConnections};`,
      `    keepalive_timeout ${s.upstreamKeepaliveTimeoutSeconds}s;`,
      `    keepalive_requests ${s.upstreamKeepaliveRequests};`,
      "  }",
    ],
  };
}

/** The configuration listener: loopback only, its own port (ingress-nginx: 10246). */
export function configServerLines(adminPort: number): string[] {
  return [
    "  server {",
    `    listen 127.0.0.1:${adminPort};`,
    `    location = ${BACKENDS_PATH} {`,
    "      client_max_body_size 1m;",
    "      client_body_buffer_size 1m;",
    "      content_by_lua_block { eks_lb.configure() }",
    "    }",
    "    location / { return 404; }",
    "  }",
  ];
}

/** The location body that proxies to an upstream through the Lua balancer. */
export function proxyBody(upstream: string): string {
  return `set $proxy_upstream_name ${upstream}; rewrite_by_lua_block { eks_lb.route() } proxy_pass http://${BALANCER_UPSTREAM};`;
}

/** POSTs the endpoint lists to one nginx pod's configuration port (bounded). */
export function postBackends(adminPort: number, body: string, timeoutMs = 2_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: adminPort,
        path: BACKENDS_PATH,
        method: "POST",
        agent: false,
        timeout: timeoutMs,
        headers: { "content-type": "text/plain", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on("end", () =>
          res.statusCode === 201
            ? resolve()
            : reject(new Error(`nginx ${BACKENDS_PATH} answered HTTP ${res.statusCode}`)),
        );
      },
    );
    req.on("timeout", () => req.destroy(new Error(`nginx ${BACKENDS_PATH}: timeout`)));
    req.on("error", reject);
    req.end(body);
  });
}
