#!/usr/bin/env bash
# The tutorial's load test, on top of `eks-runbook load`: <iterations> rounds of 50,000
# requests, 100 at a time, with Host apps.example.com, against http://<lb>/echoserver.
#
# Usage: scripts/load-testing.sh <lb> <iterations> [requests-per-iteration] [concurrency]
#   <lb>          load balancer host name (e.g. `pulumi stack output nginxServiceUrl`),
#                 host:port, or a full http(s):// URL
# Environment:
#   LOAD_HOST     Host header        (default apps.example.com)
#   LOAD_PATH     request path       (default /echoserver)
#   EKS_RUNBOOK   command to run     (default: node <package>/dist/cli.js, Node >= 22)
# Exit: 0 every request of every round succeeded; 1 some request failed; 2 bad input or
# unreachable load balancer; 130 interrupted (Ctrl-C stops the rounds, not just one).
set -uo pipefail

usage() {
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
[[ $# -ge 2 && $# -le 4 ]] || usage
lb=$1 iterations=$2 requests=${3:-50000} concurrency=${4:-100}
for n in "$iterations" "$requests" "$concurrency"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "error: \"$n\" is not a positive whole number" >&2; usage; }
done

host=${LOAD_HOST:-apps.example.com}
path=${LOAD_PATH:-/echoserver}
if [[ $lb == *://* ]]; then url=$lb; else url="http://$lb$path"; fi

repo=$(cd "$(dirname "$0")/.." && pwd)
if [[ -n ${EKS_RUNBOOK:-} ]]; then
  read -r -a runbook <<<"$EKS_RUNBOOK"
elif [[ -f $repo/dist/cli.js ]]; then
  # The project's own Node (a dev dependency) when present: the CLI needs Node >= 22.
  node_bin=$repo/node_modules/.bin/node
  [[ -x $node_bin ]] || node_bin=node
  runbook=("$node_bin" "$repo/dist/cli.js")
else
  echo "error: $repo/dist/cli.js not found: run \`npm run build\` (or set EKS_RUNBOOK)" >&2
  exit 2
fi

failed_rounds=0
for ((i = 1; i <= iterations; i++)); do
  echo "==================================="
  echo "$(date)"
  echo "iteration $i of $iterations: $requests requests, $concurrency connections, Host $host, $url"
  "${runbook[@]}" load "$url" --host "$host" --connections "$concurrency" --requests "$requests"
  code=$?
  case $code in
    0) ;;
    1) failed_rounds=$((failed_rounds + 1)) ;;
    *) echo "stopped at iteration $i (exit $code)" >&2; exit "$code" ;;
  esac
done
echo "==================================="
echo "$iterations iterations, $failed_rounds with failed requests"
[[ $failed_rounds -eq 0 ]] || exit 1
