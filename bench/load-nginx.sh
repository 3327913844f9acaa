#!/usr/bin/env bash
# Shared by the load benchmarks (sourced): a local nginx serving a small static 200 on a
# free loopback port, worker_processes auto, no access log; stopped on exit.
# Sets: NGINX_URL, NGINX_PID, NGINX_PREFIX. Defines: stop_nginx, load_cmd (array).

bench_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

need() {
  command -v "$1" >/dev/null 2>&1 || [[ -x /usr/sbin/$1 ]] || {
    echo "error: $1 is not installed: run \`npm run setup\` (it installs nginx, wrk and hey)" >&2
    exit 2
  }
}

free_port() {
  "$bench_repo/node_modules/.bin/node" -e '
    const s = require("node:net").createServer();
    s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

start_nginx() {
  need nginx
  NGINX_PREFIX=$(mktemp -d /tmp/eks-runbook-bench-nginx.XXXXXX)
  mkdir -p "$NGINX_PREFIX/tmp"
  local port
  port=$(free_port)
  cat >"$NGINX_PREFIX/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $NGINX_PREFIX/nginx.pid;
error_log $NGINX_PREFIX/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $NGINX_PREFIX/tmp/body;
  proxy_temp_path $NGINX_PREFIX/tmp/proxy;
  fastcgi_temp_path $NGINX_PREFIX/tmp/fastcgi;
  uwsgi_temp_path $NGINX_PREFIX/tmp/uwsgi;
  scgi_temp_path $NGINX_PREFIX/tmp/scgi;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  server {
    listen 127.0.0.1:$port;
    location / { default_type text/plain; return 200 "ok\n"; }
  }
}
EOF
  local bin
  bin=$(command -v nginx || echo /usr/sbin/nginx)
  "$bin" -p "$NGINX_PREFIX" -e "$NGINX_PREFIX/error.log" -c "$NGINX_PREFIX/nginx.conf" &
  NGINX_PID=$!
  NGINX_URL="http://127.0.0.1:$port/"
  for _ in $(seq 1 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "error: nginx did not start:" >&2
  cat "$NGINX_PREFIX/error.log" >&2
  exit 1
}

stop_nginx() {
  if [[ -n ${NGINX_PID:-} ]]; then
    kill -QUIT "$NGINX_PID" 2>/dev/null
    wait "$NGINX_PID" 2>/dev/null
    NGINX_PID=
  fi
  [[ -n ${NGINX_PREFIX:-} ]] && rm -rf "$NGINX_PREFIX"
}

# `eks-runbook load` from dist/ (the benchmarks measure the built CLI).
if [[ ! -f $bench_repo/dist/cli.js || ! -f $bench_repo/dist/cli/load-command.js ]]; then
  echo "error: dist/ is missing or stale: run \`npm run build\` first" >&2
  exit 2
fi
load_cmd=("$bench_repo/node_modules/.bin/node" "$bench_repo/dist/cli.js" load)
