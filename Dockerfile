# vocr-serve: the gRPC OCR server, its client and the default int8 bundle.
#
#   deploy/container/build-image.sh        (podman, no Docker daemon needed)
#   docker build -t vocr-serve .           (elsewhere)
#
# Stage 1 builds with the same Debian packages as the README's install
# (tools/install-deps.sh server). Stage 2 holds only the shared libraries the
# two binaries load, found by ldd and mapped to their Debian packages, so the
# list never drifts from what is linked.

FROM debian:bookworm-slim AS build
COPY tools/install-deps.sh /src/tools/install-deps.sh
RUN /src/tools/install-deps.sh server && rm -rf /var/lib/apt/lists/*
COPY CMakeLists.txt /src/
COPY proto /src/proto
COPY server /src/server
COPY client /src/client
RUN cmake -S /src -B /build -DCMAKE_BUILD_TYPE=Release -DVOCR_BUILD_TESTS=OFF \
 && cmake --build /build -j"$(nproc)" --target vocr_server ocr_client \
 && mkdir -p /out/bin \
 && cp /build/server/vocr_server /build/client/ocr_client /out/bin/ \
 && strip /out/bin/*
# The runtime packages: owners of every library the binaries load (merged /usr:
# a library may be registered under /lib or /usr/lib). Any library ldd cannot
# find, or no package owns, fails the build.
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN ! ldd /out/bin/* | grep "not found" \
 && for lib in $(ldd /out/bin/* | awk '/=> \//{print $3}' | sort -u); do \
      real=$(realpath "$lib"); \
      dpkg -S "$real" 2>/dev/null || dpkg -S "${real#/usr}" 2>/dev/null || dpkg -S "$lib" 2>/dev/null \
        || { echo "no package owns $lib" >&2; exit 1; }; \
    done | cut -d: -f1 | sort -u > /out/runtime-packages \
 && cat /out/runtime-packages

FROM debian:bookworm-slim
COPY --from=build /out/runtime-packages /tmp/runtime-packages
# libopenblas0-openmp: LibTorch's fp32 matrix products, 15x faster than the
# reference BLAS that would otherwise provide libblas.so.3.
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      $(cat /tmp/runtime-packages) libopenblas0-openmp \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages /usr/share/doc/* /usr/share/man/* \
 && useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin vocr
COPY --from=build /out/bin/ /usr/local/bin/
COPY model/repository/ /opt/vocr/model/repository/
# A few line images for smoke tests and the Kubernetes load-test Job.
COPY tests/data/lines/ /opt/vocr/samples/
WORKDIR /opt/vocr

# Every server flag can be set as VOCR_<FLAG> (see README, "Configuration").
ENV VOCR_MODEL_PATH=/opt/vocr/model/repository/vocr_line \
    VOCR_HOST=0.0.0.0 \
    VOCR_PORT=50051 \
    VOCR_METRICS_PORT=9090
EXPOSE 50051 9090
USER 10001:10001
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ocr_client health --target "127.0.0.1:${VOCR_PORT}" --timeout_ms 3000 || exit 1
# The server drains on SIGTERM (VOCR_DRAIN_GRACE_S, default 20 s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["vocr_server"]
