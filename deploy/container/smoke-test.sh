#!/usr/bin/env bash
# Container smoke test: builds the image (unless VOCR_SKIP_BUILD=1), runs it
# with its ports published, and checks what an operator relies on:
#   gRPC health SERVING through the published port, the image's HEALTHCHECK,
#   a non-root user, a recognised line, /metrics, and on SIGTERM a clean exit
#   (code 0) within the drain grace period.
# Uses the host's build/client/ocr_client (tools/build.sh) as the outside client.
#   deploy/container/smoke-test.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$here/podman-env.sh"
client="$root/build/client/ocr_client"
name=vocr-smoke-$$
grace_s=20

[ -x "$client" ] || { echo "smoke-test: $client missing; run tools/build.sh" >&2; exit 2; }
if [ "${VOCR_SKIP_BUILD:-0}" != 1 ]; then "$here/build-image.sh"; fi

cleanup() { "${PODMAN[@]}" rm -f "$name" >/dev/null 2>&1 || true; }
trap cleanup EXIT
fail() {
  echo "smoke-test: FAIL: $*" >&2
  "${PODMAN[@]}" logs "$name" 2>&1 | tail -20 >&2 || true
  exit 1
}

"${PODMAN[@]}" run -d --name "$name" "${ULIMITS[@]}" -p 127.0.0.1::50051 -p 127.0.0.1::9090 \
  -e VOCR_DRAIN_GRACE_S="$grace_s" "$IMAGE" >/dev/null
host_port() { "${PODMAN[@]}" port "$name" "$1/tcp" | head -1 | sed 's/.*://'; }
grpc_port=$(host_port 50051)
metrics_port=$(host_port 9090)
echo "smoke-test: container $name, gRPC on 127.0.0.1:$grpc_port, metrics on 127.0.0.1:$metrics_port"

start=$(date +%s)
until [ "$("$client" health --target "127.0.0.1:$grpc_port" --timeout_ms 1000 2>/dev/null)" = SERVING ]; do
  [ "$(( $(date +%s) - start ))" -lt 120 ] || fail "not SERVING after 120 s"
  [ "$("${PODMAN[@]}" inspect "$name" --format '{{.State.Running}}')" = true ] || fail "container exited"
  sleep 1
done
echo "smoke-test: SERVING after $(( $(date +%s) - start )) s"

"${PODMAN[@]}" healthcheck run "$name" || fail "the image's HEALTHCHECK reports unhealthy"
echo "smoke-test: HEALTHCHECK healthy"
uid=$("${PODMAN[@]}" exec "$name" id -u)
[ "$uid" != 0 ] || fail "runs as root"
echo "smoke-test: runs as uid $uid"

out=$("$client" recognize --target "127.0.0.1:$grpc_port" "$root"/tests/data/lines/*.png) || fail "recognize failed"
echo "$out" | sed 's/^/smoke-test: read: /'
[ "$(echo "$out" | grep -c .)" -ge 1 ] || fail "no text recognised"

metrics=$(curl -sf "http://127.0.0.1:$metrics_port/metrics") || fail "/metrics unreachable"
for family in vocr_requests_total vocr_request_duration_seconds_bucket vocr_model_size_bytes process_resident_memory_bytes; do
  grep -q "^$family" <<<"$metrics" || fail "/metrics lacks $family"
done
echo "smoke-test: /metrics has $(echo "$metrics" | grep -c '^vocr_') vocr_ samples; resident memory" \
  "$(echo "$metrics" | awk '/^process_resident_memory_bytes/{printf "%.0f MiB", $2/1048576}')"

stop_start=$(date +%s%N)
"${PODMAN[@]}" stop --time "$(( grace_s + 10 ))" "$name" >/dev/null
stopped_ms=$(( ($(date +%s%N) - stop_start) / 1000000 ))
code=$("${PODMAN[@]}" inspect "$name" --format '{{.State.ExitCode}}')
echo "smoke-test: SIGTERM -> exit code $code after $stopped_ms ms"
[ "$code" = 0 ] || fail "exit code $code after SIGTERM"
[ "$stopped_ms" -le $(( grace_s * 1000 )) ] || fail "took $stopped_ms ms, grace is $grace_s s"
echo "smoke-test: image $("${PODMAN[@]}" image inspect "$IMAGE" --format '{{.Size}}') bytes; PASS"
