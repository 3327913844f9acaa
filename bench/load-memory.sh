#!/usr/bin/env bash
# Memory of `eks-runbook load` over a long run: RSS of the process (main thread and worker
# threads together) sampled every second while it sends REQUESTS (default 10 million)
# requests to a local nginx, printed at each million. Flat RSS = nothing kept per request.
# Bounded in time: after MAX_SECONDS (default 900) the run is interrupted (Ctrl-C, so it
# still drains and prints its summary) and the count reached is reported.
#
# Usage: npm run build && bench/load-memory.sh   (env: REQUESTS MAX_SECONDS CONNECTIONS)
set -euo pipefail
source "$(dirname "$0")/load-nginx.sh"

requests=${REQUESTS:-10000000}
max_seconds=${MAX_SECONDS:-900}
connections=${CONNECTIONS:-100}
out=$(mktemp -d /tmp/eks-runbook-bench.XXXXXX)
load_pid=
cleanup() {
  [[ -n $load_pid ]] && kill -INT "$load_pid" 2>/dev/null
  stop_nginx
  rm -rf "$out"
}
trap cleanup EXIT
start_nginx

"${load_cmd[@]}" "$NGINX_URL" --connections "$connections" --requests "$requests" --json \
  >"$out/load.json" &
load_pid=$!

rss_mb() { awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status" 2>/dev/null; }
sent() { awk -F'"requests":' 'NF > 1 {split($2, a, ","); n += a[1]} END {print n + 0}' "$out/load.json"; }

echo "nginx $NGINX_URL · $connections connections · $requests requests · limit ${max_seconds}s"
printf '%10s %10s %8s\n' requests "RSS MB" elapsed
start=$SECONDS next_mark=1000000 min_rss= max_rss=
while kill -0 "$load_pid" 2>/dev/null; do
  sleep 1
  rss=$(rss_mb "$load_pid") || true
  [[ -z $rss ]] && break
  n=$(sent)
  if [[ -z ${first_rss:-} ]]; then
    # the first second: threads, connections and buffers set up, little sent yet
    first_rss=$rss
    printf '%10s %10s %7ds  (start)\n' "$n" "$rss" $((SECONDS - start))
  fi
  if ((n >= next_mark)); then
    printf '%9dM %10s %7ds\n' $((n / 1000000)) "$rss" $((SECONDS - start))
    # the spread of RSS from the first million on
    if [[ -z $min_rss ]] || awk -v a="$rss" -v b="$min_rss" 'BEGIN {exit !(a < b)}'; then min_rss=$rss; fi
    if [[ -z $max_rss ]] || awk -v a="$rss" -v b="$max_rss" 'BEGIN {exit !(a > b)}'; then max_rss=$rss; fi
    while ((n >= next_mark)); do next_mark=$((next_mark + 1000000)); done
  fi
  if ((SECONDS - start >= max_seconds)); then
    echo "time limit reached: interrupting at $n requests"
    kill -INT "$load_pid"
    break
  fi
done
wait "$load_pid" || true
load_pid=
echo "summary: $(tail -n 1 "$out/load.json")"
echo "requests reached: $(sent)"
[[ -n ${first_rss:-} ]] && echo "RSS after the first second: ${first_rss} MB"
[[ -n $min_rss ]] && echo "RSS from the first million on: min ${min_rss} MB, max ${max_rss} MB"
