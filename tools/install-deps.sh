#!/usr/bin/env bash
# Installs the Debian packages the project needs (as root, idempotent).
# apt-get update runs only when something is missing, so a second run is quick.
#
#   tools/install-deps.sh          everything: trainer, server, tests, containers
#   tools/install-deps.sh server   only what building vocr_server and ocr_client needs
#                                  (the Dockerfile's build stage)
set -euo pipefail

# Trainer: Debian's torch 1.13.1 (the same version as libtorch-dev, so
# TorchScript files move between them), OpenBLAS (without it torch multiplies
# fp32 matrices with the reference BLAS, ~15x slower), image and font tools, and
# Pango and Cairo with their Python bindings (the second line renderer).
TRAINER=(python3 python3-torch libopenblas0-openmp python3-numpy python3-pil python3-opencv
  gir1.2-pango-1.0 python3-gi-cairo
  python3-fonttools python3-pytest
  # The Python client (client/python) and its end-to-end test: it runs on Debian's
  # gRPC and protobuf alone. Its stubs are shipped, generated with CXX's protoc and
  # grpc_python_plugin, so python3-grpc-tools is not needed.
  python3-grpcio python3-protobuf)

# Text sources for synthetic lines: Vietnamese documentation, translations and
# a word list. maint-guide-vi and manpages-vi are reserved for the project's
# independent evaluation and are never installed or read.
TEXT=(libreoffice-help-vi libreoffice-l10n-vi hunspell-vi)

# Fonts. Each is still checked for every vocabulary glyph before use; the
# reserved evaluation fonts (gentium*, charis*, texgyre, ebgaramond) are
# never installed here and are excluded by path if present.
FONTS=(fonts-dejavu-core fonts-dejavu-extra fonts-noto-core fonts-roboto-unhinted fonts-roboto-slab
  fonts-open-sans fonts-lato fonts-liberation2 fonts-freefont-ttf fonts-crosextra-carlito
  fonts-crosextra-caladea fonts-inter fonts-cantarell fonts-comic-neue fonts-vollkorn fonts-firacode
  fonts-noto-mono fonts-linuxlibertine fonts-urw-base35 fonts-paratype fonts-jetbrains-mono fonts-hack
  fonts-croscore fonts-league-spartan fonts-oxygen fonts-quicksand fonts-sil-andika fonts-sil-doulos
  fonts-manrope fonts-b612 fonts-cabin fonts-dosis fonts-karla fonts-play fonts-yrsa-rasa fonts-comfortaa
  fonts-courier-prime fonts-go fonts-junicode fonts-stix fonts-sora fonts-jura fonts-lmodern
  fonts-opendyslexic fonts-bebas-neue fonts-anonymous-pro fonts-cmu)

# Server, client and tests: the C++ toolchain and libraries, all found by
# CMake's find_package. prometheus provides promtool for the metrics tests.
CXX=(g++ make cmake pkg-config ccache curl libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libtorch-dev libdnnl-dev libopencv-dev libabsl-dev prometheus-cpp-dev nlohmann-json3-dev libutfcpp-dev libssl-dev libgtest-dev libgmock-dev
  prometheus)

# The baseline the model and the server are compared with: the tesseract CLI
# (model/vocr_train/tesseract_baseline.py) and its C++ API (bench/tesseract_bench.cc).
BASELINE=(tesseract-ocr tesseract-ocr-vie libtesseract-dev)

# Building and checking the container image and the Kubernetes manifests
# (deploy/): podman and buildah without a daemon, runc, debootstrap for a local
# base image, Node.js for the manifest validators.
DEPLOY=(podman buildah runc debootstrap uidmap nodejs)

mode=${1:-all}
case "$mode" in
  all) PACKAGES=("${TRAINER[@]}" "${TEXT[@]}" "${FONTS[@]}" "${CXX[@]}" "${BASELINE[@]}" "${DEPLOY[@]}") ;;
  server) PACKAGES=("${CXX[@]}") ;;
  *) echo "usage: $0 [all|server]" >&2; exit 2 ;;
esac

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Debian's nodejs comes without npm; NodeSource's includes it (and conflicts with Debian's npm).
if [ "$mode" = all ] && ! command -v npm >/dev/null; then missing+=(npm); fi
# kubectl (for `kubectl kustomize`): Debian's kubernetes-client unless another kubectl is installed.
if [ "$mode" = all ] && ! command -v kubectl >/dev/null; then missing+=(kubernetes-client); fi
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
