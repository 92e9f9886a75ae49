#!/usr/bin/env bash
# Makes `FROM debian:bookworm-slim` resolve without Docker Hub: a minimal
# Debian 12 root filesystem from debootstrap, imported as
# localhost/debian:bookworm-slim. Elsewhere the Dockerfile pulls the real
# image. Does nothing when the image exists already.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/podman-env.sh"

if "${PODMAN[@]}" image exists "$BASE_IMAGE"; then
  echo "make-base-image: $BASE_IMAGE present"
  exit 0
fi
rootfs=$(mktemp -d /var/tmp/vocr-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian
# What the official slim image also drops: apt lists and caches, docs.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*
tar -C "$rootfs" -c . | "${PODMAN[@]}" import --change 'CMD ["bash"]' - "$BASE_IMAGE"
echo "make-base-image: imported $BASE_IMAGE"
