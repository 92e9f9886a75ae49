#!/usr/bin/env bash
# Builds the vocr-serve image with podman (no Docker daemon), from the
# repository's Dockerfile, and prints its size and the build time. Docker image
# format, since the OCI format has no HEALTHCHECK.
#   deploy/container/build-image.sh [extra podman build args]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$here/podman-env.sh"

"$here/make-base-image.sh"
start=$(date +%s)
"${PODMAN[@]}" build --format docker --network host "${ULIMITS[@]}" --pull=never -t "$IMAGE" -f "$root/Dockerfile" "$@" "$root"
echo "build-image: $IMAGE built in $(( $(date +%s) - start )) s"
"${PODMAN[@]}" image inspect "$IMAGE" --format 'build-image: size {{.Size}} bytes'
