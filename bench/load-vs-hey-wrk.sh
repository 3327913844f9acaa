#!/usr/bin/env bash
# Throughput of `eks-runbook load` against hey and wrk, side by side in one run: the same
# local nginx (small static 200, worker_processes auto), 100 connections, the same fixed
# duration for each tool, one tool after the other. Rounds rotate the order so no tool always
# runs first (or right after another one heated the machine). Nothing is pinned: every tool
# shares the cores with nginx in the same way.
# Goal (DESIGN.md): load ≥ 1.5× hey and ≥ 0.5× wrk.
#
# Usage: npm run build && bench/load-vs-hey-wrk.sh
#   env: ROUNDS=3 DURATION=10 CONNECTIONS=100, LOAD_ARGS="--threads 1" (extra load options)
set -euo pipefail
source "$(dirname "$0")/load-nginx.sh"
need hey
need wrk

rounds=${ROUNDS:-3}
duration=${DURATION:-10}
connections=${CONNECTIONS:-100}
read -r -a load_args <<<"${LOAD_ARGS:-}"
out=$(mktemp -d /tmp/eks-runbook-bench.XXXXXX)
trap 'stop_nginx; rm -rf "$out"' EXIT
start_nginx

# Each runner prints "<requests/s> <cpu seconds user+sys>".
run_load() {
  /usr/bin/time -f "%U %S" -o "$out/time" \
    "${load_cmd[@]}" "$NGINX_URL" --connections "$connections" --duration "${duration}s" --json \
    "${load_args[@]}" \
    >"$out/load.json" || true
  local rps
  rps=$(tail -n 1 "$out/load.json" | grep -o '"rps":[0-9.]*' | cut -d: -f2)
  echo "$rps $(awk '{print $1 + $2}' "$out/time")"
}
run_hey() {
  /usr/bin/time -f "%U %S" -o "$out/time" \
    hey -c "$connections" -z "${duration}s" "$NGINX_URL" >"$out/hey.txt"
  local rps
  rps=$(awk '/Requests\/sec:/ {print $2}' "$out/hey.txt")
  echo "$rps $(awk '{print $1 + $2}' "$out/time")"
}
run_wrk() {
  /usr/bin/time -f "%U %S" -o "$out/time" \
    wrk -c "$connections" -t 2 -d "${duration}s" "$NGINX_URL" >"$out/wrk.txt"
  local rps
  rps=$(awk '/Requests\/sec:/ {print $2}' "$out/wrk.txt")
  echo "$rps $(awk '{print $1 + $2}' "$out/time")"
}

# Warm nginx (and the page cache) once; not measured.
hey -c 10 -n 2000 "$NGINX_URL" >/dev/null

printf '%s\n' "nginx $NGINX_URL · $connections connections · ${duration}s per tool · $rounds rounds · $(nproc) cores"
# Other work on the machine moves every number; say how busy it was (1-minute load average).
printf '%s\n' "load average at start: $(cut -d ' ' -f 1 /proc/loadavg)"
printf '%s\n' "load: ${load_cmd[*]##*/} ${LOAD_ARGS:-(default threads: one per core, at most 4)}"
printf '%-6s %-6s %12s %14s\n' round tool "req/s" "CPU µs/req"
tools=(load hey wrk)
declare -A rps_of
for ((r = 1; r <= rounds; r++)); do
  # rotate the order each round
  for ((k = 0; k < 3; k++)); do
    tool=${tools[$(((k + r - 1) % 3))]}
    read -r rps cpu < <("run_$tool")
    rps_of[$tool,$r]=$rps
    awk -v r="$r" -v t="$tool" -v rps="$rps" -v cpu="$cpu" -v d="$duration" \
      'BEGIN { printf "%-6s %-6s %12.0f %14.1f\n", r, t, rps, cpu * 1e6 / (rps * d) }'
  done
  awk -v l="${rps_of[load,$r]}" -v h="${rps_of[hey,$r]}" -v w="${rps_of[wrk,$r]}" -v r="$r" \
    'BEGIN { printf "round %d: load/hey %.2f×  load/wrk %.2f×\n", r, l / h, l / w }'
done

median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
ratios() { # $1 = peer tool: the per-round ratios load/peer, one per line
  for ((r = 1; r <= rounds; r++)); do
    awk -v l="${rps_of[load,$r]}" -v p="${rps_of[$1,$r]}" 'BEGIN {print l / p}'
  done
}
printf '%s\n' "load average at end: $(cut -d ' ' -f 1 /proc/loadavg)"
for peer in hey wrk; do
  med=$(ratios "$peer" | median)
  min=$(ratios "$peer" | sort -n | head -n 1)
  max=$(ratios "$peer" | sort -n | tail -n 1)
  goal=$([[ $peer == hey ]] && echo 1.5 || echo 0.5)
  awk -v p="$peer" -v med="$med" -v min="$min" -v max="$max" -v g="$goal" 'BEGIN {
    printf "load/%s: median %.2f× (rounds from %.2f× to %.2f×), goal ≥ %.1f×: %s\n", p, med, min,
      max, g, (med >= g ? "met" : "MISSED")
  }'
done
