#!/usr/bin/env bash
# Everything a fresh machine needs before `npx eks-runbook --target local` or `npm test`:
# Debian packages, the npm dependencies (including the project's own Node 24), the local
# toolchain built from pinned Go modules (cached outside the repo), and the build.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS

apt_packages=(nginx libnginx-mod-stream haproxy hey wrk tmux iproute2 procps fonts-dejavu-core)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "… apt: installing ${missing[*]}" >&2
  if [[ $(id -u) -eq 0 ]]; then sudo=(); else sudo=(sudo); fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts nginx as a service on install; the sandbox runs its own instances.
  "${sudo[@]}" systemctl disable --now nginx >/dev/null 2>&1 || "${sudo[@]}" service nginx stop >/dev/null 2>&1 || true
fi
echo "✔ apt packages: ${apt_packages[*]}" >&2

if [[ ! -x node_modules/.bin/node || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "… npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "✔ npm dependencies (node $(node_modules/.bin/node --version))" >&2

bash scripts/setup-toolchain.sh
npm run --silent build
echo "✔ setup done in $((SECONDS - start))s" >&2
