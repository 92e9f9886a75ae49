#!/usr/bin/env bash
# Regenerates the Python stubs shipped in vocr_client/proto/ from the server's
# API (proto/ocr/v1/ocr.proto) and the health protocol the C++ client also uses
# (client/proto/grpc/health/v1/health.proto). Run it after either proto changes
# and commit the result, so using the client never needs a code generator.
#
#   client/python/generate_stubs.sh
#
# It runs Debian's protoc (protobuf-compiler) with its gRPC Python plugin
# (protobuf-compiler-grpc), both already installed for the C++ build. Not
# python3-grpc-tools: Debian 12's grpc_tools bundles protoc 3.5.1, whose
# messages python3-protobuf 4.21 only loads through deprecated descriptor calls.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$here/vocr_client/proto"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

protoc --plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin \
  -I "$root/proto" -I "$root/client/proto" \
  --python_out="$tmp" --grpc_python_out="$tmp" \
  ocr/v1/ocr.proto grpc/health/v1/health.proto

# protoc writes ocr/v1/... and grpc/health/v1/... with absolute imports such as
# `from grpc.health.v1 import health_pb2`, which would look inside the grpc
# library itself. Flatten the files into one package and import siblings
# relatively, so the package works from any sys.path entry; the message classes
# take the module's real name (for pickling and repr), not the proto path's.
for f in "$tmp"/ocr/v1/*.py "$tmp"/grpc/health/v1/*.py; do
  sed -E -e 's/^from [A-Za-z0-9_.]+ import ([A-Za-z0-9_]+_pb2) as /from . import \1 as /' \
    -e "s/(BuildTopDescriptorsAndMessages\(DESCRIPTOR, )'[A-Za-z0-9_.]+'/\1__name__/" "$f" >"$out/$(basename "$f")"
done
if grep -nE '^(from|import) (ocr|grpc\.health)' "$out"/*_pb2*.py; then
  echo "generate_stubs: an absolute import survived (above)" >&2
  exit 1
fi
echo "generate_stubs: wrote $(ls "$out"/*_pb2*.py | wc -l) files to $out"
