#!/usr/bin/env bash
# Everything a fresh machine needs before `npx eks-runbook --target local` or `npm test`:
# Debian packages, the npm dependencies (including the project's own Node 24), the local
# toolchain built from pinned Go modules (cached outside the repo), and the build.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS

apt_packages=(nginx libnginx-mod-stream libnginx-mod-http-lua haproxy hey wrk tmux iproute2 procps fonts-dejavu-core)
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
  # `npm install`, not `npm ci`: the lock file holds only the platform packages the
  # registry here serves (biome's other-OS binaries are missing), which `npm ci` rejects.
  echo "… npm install" >&2
  npm install --no-audit --no-fund --loglevel=error
fi
echo "✔ npm dependencies (node $(node_modules/.bin/node --version))" >&2

bash scripts/setup-toolchain.sh
npm run --silent build
# The project's own bin next to its dependencies, so `npx eks-runbook` always runs this
# checkout's build (npx would otherwise cache a copy of the package made before a build).
ln -sf ../../bin/eks-runbook node_modules/.bin/eks-runbook
echo "✔ setup done in $((SECONDS - start))s" >&2
