#!/usr/bin/env bash
# Installs the Debian packages the integration tests start for real (etcd;
# Slurm with munge and slurmrestd + JWT; sshd for the Slurm-over-SSH path;
# podman + runc + busybox-static for the local manager's container runtime;
# openssl for the TLS tests' throwaway certificates; kubectl, from Debian's
# kubernetes-client, for the fake Kubernetes API server's fidelity tests, only
# when no kubectl is on the PATH already).
# Idempotent; needs root (or sudo).
set -euo pipefail
packages=(etcd-server etcd-client
  slurmctld slurmd slurm-client munge slurmrestd slurm-wlm-jwt-plugin
  openssh-server openssh-client
  podman runc busybox-static
  openssl)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
if [ ${#missing[@]} -eq 0 ]; then
  echo "test dependencies already installed: ${packages[*]} kubectl"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian may start an etcd service on install where systemd runs; the tests start their own on free ports.
# Likewise apt never starts munge/slurm/sshd here (policy-rc.d); test/infra/slurm.ts and sshd.ts start their own.
