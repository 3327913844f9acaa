#!/usr/bin/env bash
# Which HTTP client is cheapest per request: undici driven four ways (several Clients with
# dispatch() and a reused handler object, one Pool, client.request(), the Milo parser) and
# the load worker's own lean client (needs `npm run build`). Each variant sends the
# same number of requests on 100 connections to the same local nginx, one thread, in
# rotating order over several rounds; CPU µs per request is the number that matters on a
# shared machine (req/s also depends on what else runs).
#
# Usage: bench/load-variants.sh   (env: ROUNDS=3 REQUESTS=200000 CONNECTIONS=100)
set -euo pipefail
source "$(dirname "$0")/load-nginx.sh"
rounds=${ROUNDS:-3}
requests=${REQUESTS:-200000}
connections=${CONNECTIONS:-100}
trap stop_nginx EXIT
start_nginx

node=$bench_repo/node_modules/.bin/node
variants=(clients pool request milo lean)
echo "nginx $NGINX_URL · $connections connections · $requests requests per run · $rounds rounds"
printf '%-6s %-8s %10s %12s\n' round variant "req/s" "CPU µs/req"
declare -A cpu_of
for ((r = 1; r <= rounds; r++)); do
  for ((k = 0; k < ${#variants[@]}; k++)); do
    v=${variants[$(((k + r - 1) % ${#variants[@]}))]}
    read -r _ rps cpu < <("$node" "$bench_repo/bench/load-variants.ts" "$v" "$NGINX_URL" "$requests" "$connections")
    cpu_of[$v]="${cpu_of[$v]:-} $cpu"
    printf '%-6s %-8s %10s %12s\n' "$r" "$v" "$rps" "$cpu"
  done
done
echo "median CPU µs/request:"
for v in "${variants[@]}"; do
  # shellcheck disable=SC2086
  printf '  %-8s %s\n' "$v" "$(printf '%s\n' ${cpu_of[$v]} | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')"
done
