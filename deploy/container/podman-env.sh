# Sourced by the container scripts: how podman runs on a machine without a
# Docker daemon, as root (issue 4 lists the machine's quirks):
# - crun fails on rlimits and hybrid cgroups here, so runc with cgroupfs;
# - the ulimits containers get, within what the machine allows;
# - apt inside a build reaches Debian's mirror through the host's network.
# VOCR_PODMAN_STORAGE=vfs switches storage where overlay is not available.
PODMAN=(podman --runtime runc --cgroup-manager cgroupfs)
if [ -n "${VOCR_PODMAN_STORAGE:-}" ]; then PODMAN+=(--storage-driver "$VOCR_PODMAN_STORAGE"); fi
ULIMITS=(--ulimit nofile=4096:4096 --ulimit nproc=4096:4096)
BASE_IMAGE=localhost/debian:bookworm-slim
IMAGE=${VOCR_IMAGE:-localhost/vocr-serve:dev}
