#!/usr/bin/env bash
# Builds the local target's toolchain from pinned Go modules (and moto from PyPI) into a
# cache outside the repo, one directory per component and version:
#   ${EKS_RUNBOOK_CACHE:-~/.cache/eks-runbook}/toolchain/<component>-<version>/bin/…
# A component whose directory holds a .complete marker is reused as it is.
# Usage: scripts/setup-toolchain.sh [component ...]   (default: all)
# language-host is the one component built from this repository (toolchain/): its cache key
# is the pinned Pulumi version plus a hash of its sources, so an edit rebuilds it.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../pins/versions.env
source "$repo/pins/versions.env"

cache=${EKS_RUNBOOK_CACHE:-$HOME/.cache/eks-runbook}
tc="$cache/toolchain"
mkdir -p "$tc"
export GOFLAGS="-mod=mod -buildvcs=false"
export CGO_ENABLED=0
# Go module and build caches stay in their default places (outside the repo).

log() { printf '%s\n' "$*" >&2; }
elapsed() { local s=$1; printf '%dm%02ds' $((s / 60)) $((s % 60)); }

# run_component NAME VERSION BUILD_FN: builds into a temp dir, then renames it into place,
# so an interrupted build never looks complete.
run_component() {
  local name=$1 version=$2 fn=$3
  local dest="$tc/$name-$version"
  if [[ -f "$dest/.complete" ]]; then
    log "✔ $name $version  cached  $dest"
    return
  fi
  log "… $name $version  building (log: $tc/$name-$version.build.log)"
  local start=$SECONDS work="$tc/.build-$name-$version"
  rm -rf "$work" "$dest"
  mkdir -p "$work/bin"
  if ! ("$fn" "$work" "$version" >"$tc/$name-$version.build.log" 2>&1); then
    log "✘ $name $version  failed after $(elapsed $((SECONDS - start))); last lines of the log:"
    tail -n 25 "$tc/$name-$version.build.log" >&2
    exit 1
  fi
  rm -rf "$work/src"
  date -u +%FT%TZ >"$work/.complete"
  mv "$work" "$dest"
  log "✔ $name $version  built in $(elapsed $((SECONDS - start)))  $dest"
}

build_etcd() {
  local out=$1 v=$2
  mkdir -p "$out/src" && cd "$out/src"
  cat >go.mod <<EOF
module local/etcdbin

go 1.23.0

require go.etcd.io/etcd/server/v3 v$v
EOF
  go build -trimpath -ldflags "-s -w" -o "$out/bin/etcd" go.etcd.io/etcd/server/v3
  "$out/bin/etcd" --version
}

build_kwok() {
  local out=$1 v=$2
  GOBIN="$out/bin" go install -trimpath -ldflags "-s -w" \
    "sigs.k8s.io/kwok/cmd/kwok@v$v" "sigs.k8s.io/kwok/cmd/kwokctl@v$v"
  "$out/bin/kwokctl" --version
}

build_kubernetes() {
  local out=$1 v=$2
  local minor=${v#*.}
  minor=${minor%%.*}
  local staging_v="v0.${v#*.}"
  mkdir -p "$out/src" && cd "$out/src"
  local staging=(api apiextensions-apiserver apimachinery apiserver cli-runtime client-go
    cloud-provider cluster-bootstrap code-generator component-base component-helpers
    controller-manager cri-api cri-client csi-translation-lib dynamic-resource-allocation
    endpointslice externaljwt kms kube-aggregator kube-controller-manager kube-proxy
    kube-scheduler kubectl kubelet metrics mount-utils pod-security-admission sample-apiserver)
  {
    printf 'module local/kubebin\n\ngo 1.24.0\n\ngodebug default=go1.24\n\n'
    printf 'require k8s.io/kubernetes v%s\n\nreplace (\n' "$v"
    for m in "${staging[@]}"; do printf '\tk8s.io/%s => k8s.io/%s %s\n' "$m" "$m" "$staging_v"; done
    printf ')\n'
  } >go.mod
  # The version must be injected: an unversioned build reports v0.0.0 and the Pulumi
  # Kubernetes provider refuses such a cluster.
  local flags="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags="$flags -X $p.gitVersion=v$v -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    flags="$flags -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  go build -trimpath -ldflags "$flags" -o "$out/bin/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
  "$out/bin/kube-apiserver" --version
}

build_pulumi() {
  local out=$1 v=$2
  mkdir -p "$out/src" && cd "$out/src"
  cat >go.mod <<EOF
module local/pulumibin

go 1.25.11

require (
	github.com/pulumi/pulumi/pkg/v3 v$v
	github.com/pulumi/pulumi/sdk/v3 v$v
)

replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
EOF
  go build -trimpath -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$v" \
    -o "$out/bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  # The launcher the engine runs for Node.js dynamic providers (bundled next to pulumi).
  local sdk
  sdk=$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
  install -m 0755 "$sdk/nodejs/dist/pulumi-resource-pulumi-nodejs" "$out/bin/"
  "$out/bin/pulumi" version
}

build_pulumi_kubernetes() {
  local out=$1 v=$2
  mkdir -p "$out/src" && cd "$out/src"
  local mod=github.com/pulumi/pulumi-kubernetes/provider/v4
  # Its go.mod replaces sdk/v4 with ../sdk and its main package embeds files that only
  # `go generate` writes, so build from a writable copy of the module.
  local dir
  dir=$(GONOSUMDB=github.com/pulumi/pulumi-kubernetes go mod download -json \
    "$mod@$PULUMI_KUBERNETES_PROVIDER_MODULE_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  cp -r "$dir" provider && chmod -R u+w provider
  local sdkv
  sdkv=$(awk '$1=="github.com/pulumi/pulumi-kubernetes/sdk/v4" {print $2}' provider/go.mod)
  cat >go.mod <<EOF
module local/pulumikubernetesbin

go 1.24.7

require (
	$mod v4.0.0
	github.com/pulumi/pulumi-kubernetes/sdk/v4 $sdkv
)

replace $mod => ./provider
EOF
  # What the provider's generate.go does: stamp the version into the schema, re-marshal both.
  (cd provider/cmd/pulumi-resource-kubernetes && python3 - "$v" <<'PY'
import json, sys
schema = json.load(open("schema.json"))
schema["version"] = sys.argv[1]
json.dump(schema, open("schema-embed.json", "w"), separators=(",", ":"))
json.dump(json.load(open("terraform-mapping.json")), open("terraform-mapping-embed.json", "w"), separators=(",", ":"))
PY
  )
  cp go.mod go.mod.orig
  # The provider's own go.sum covers its dependency graph.
  cp provider/go.sum go.sum
  GONOSUMDB=github.com/pulumi/pulumi-kubernetes go build -trimpath \
    -ldflags "-s -w -X $mod/pkg/version.Version=$v" \
    -o "$out/bin/pulumi-resource-kubernetes" "$mod/cmd/pulumi-resource-kubernetes"
}

build_moto() {
  local out=$1 v=$2
  python3 -m venv "$out/venv"
  "$out/venv/bin/pip" install --quiet "moto[server,autoscaling,ec2]==$v"
  # The venv is built in a temp dir and then moved, which breaks the absolute shebangs pip
  # writes; so the entry point runs the venv's python (which finds its site-packages from
  # its own location) instead of the generated console script.
  printf '%s\n' '#!/bin/sh' \
    'exec "$(dirname "$(readlink -f "$0")")/../venv/bin/python" -m moto.server "$@"' \
    >"$out/bin/moto_server"
  chmod 0755 "$out/bin/moto_server"
  "$out/bin/moto_server" --help | head -1
}

# The rehearsal stand-in for Pulumi's Node.js language host (docs/rehearsal-language-host.md):
# built from toolchain/rehearsal-language-host against the pinned Pulumi SDK's gRPC stubs.
# Pulumi's own host cannot be built here (its Go module is untagged; the proxy refuses it).
language_host_src="$repo/toolchain/rehearsal-language-host"
language_host_key() {
  local hash
  hash=$(cd "$language_host_src" && export LC_ALL=C && sha256sum -- *.go | sha256sum | cut -c1-12)
  printf '%s-%s' "$PULUMI_VERSION" "$hash"
}

build_language_host() {
  local out=$1
  mkdir -p "$out/src" && cd "$out/src"
  cp "$language_host_src"/*.go .
  cat >go.mod <<EOF
module local/rehearsallanguagehost

go 1.25.11

require github.com/pulumi/pulumi/sdk/v3 v$PULUMI_VERSION
EOF
  go build -trimpath -ldflags "-s -w -X main.version=$PULUMI_VERSION" \
    -o "$out/bin/pulumi-language-nodejs" .
  "$out/bin/pulumi-language-nodejs" -version
}

# Links the host next to the pinned pulumi, where the engine looks for its bundled language
# hosts first (and which is first on the runbook's PATH); a real host there is kept.
link_language_host() {
  local target="$tc/rehearsal-language-host-$1/bin/pulumi-language-nodejs"
  local link="$tc/pulumi-$PULUMI_VERSION/bin/pulumi-language-nodejs"
  if [[ -e "$link" && ! -L "$link" ]]; then
    log "✔ $link is a real language host; the rehearsal one is not linked"
    return
  fi
  [[ "$(readlink "$link" 2>/dev/null)" == "$target" ]] && return
  ln -sfn "$target" "$link"
  log "✔ rehearsal language host linked: $link -> $target"
}

# Installs the provider into the plugin cache of the Pulumi home the runbook uses, so the
# engine never tries to download it.
install_kubernetes_plugin() {
  local home="$cache/pulumi-home"
  local plugin_dir="$home/plugins/resource-kubernetes-v$PULUMI_KUBERNETES_VERSION"
  if [[ -x "$plugin_dir/pulumi-resource-kubernetes" ]]; then
    return
  fi
  PULUMI_HOME="$home" PULUMI_SKIP_UPDATE_CHECK=true \
    "$tc/pulumi-$PULUMI_VERSION/bin/pulumi" plugin install resource kubernetes "$PULUMI_KUBERNETES_VERSION" \
    --file "$tc/pulumi-kubernetes-$PULUMI_KUBERNETES_VERSION/bin/pulumi-resource-kubernetes" >&2
  log "✔ kubernetes plugin installed in $home/plugins"
}

components=("$@")
[[ ${#components[@]} -gt 0 ]] || components=(etcd kwok moto pulumi language-host pulumi-kubernetes kubernetes)
total_start=$SECONDS
for c in "${components[@]}"; do
  case "$c" in
    etcd) run_component etcd "$ETCD_VERSION" build_etcd ;;
    kwok) run_component kwok "$KWOK_VERSION" build_kwok ;;
    kubernetes) run_component kubernetes "$KUBERNETES_VERSION" build_kubernetes ;;
    pulumi)
      run_component pulumi "$PULUMI_VERSION" build_pulumi
      key=$(language_host_key)
      [[ -f "$tc/rehearsal-language-host-$key/.complete" ]] && link_language_host "$key"
      ;;
    language-host)
      key=$(language_host_key)
      run_component rehearsal-language-host "$key" build_language_host
      if [[ -f "$tc/pulumi-$PULUMI_VERSION/.complete" ]]; then
        link_language_host "$key"
      else
        log "… rehearsal language host not linked yet: build pulumi first (then run this again)"
      fi
      ;;
    pulumi-kubernetes)
      run_component pulumi-kubernetes "$PULUMI_KUBERNETES_VERSION" build_pulumi_kubernetes
      [[ -f "$tc/pulumi-$PULUMI_VERSION/.complete" ]] && install_kubernetes_plugin
      ;;
    moto) run_component moto "$MOTO_VERSION" build_moto ;;
    *) log "unknown component '$c' (known: etcd kwok kubernetes pulumi language-host pulumi-kubernetes moto)"; exit 2 ;;
  esac
done
log "toolchain ready in $(elapsed $((SECONDS - total_start))) under $tc"
