# One image per app, from one Dockerfile:
#   docker build --build-arg APP=tcp-echo -t netlab/tcp-echo .
# APP is a folder under apps/. NODE_IMAGE is the base of both stages; the
# official slim image by default (tests pass an offline stand-in).
ARG NODE_IMAGE=node:24-bookworm-slim
ARG APP

# --- build: the whole workspace, installed and compiled once. Nothing here
# depends on APP, so the seven images share this stage from the build cache
# and only the deploy below is per app. ---
FROM ${NODE_IMAGE} AS build
# The pinned pnpm of package.json "packageManager", from npm (corepack needs
# to download pnpm itself and is not in every node image).
ARG PNPM_VERSION=10.34.8
RUN npm install --global --no-fund --no-audit "pnpm@${PNPM_VERSION}"
ENV CI=true
WORKDIR /src
COPY . .
# The store is a cache mount: packages are downloaded once per builder, not
# once per image or per source change.
RUN --mount=type=cache,id=netlab-pnpm-store,target=/pnpm/store \
    pnpm install --frozen-lockfile --store-dir /pnpm/store
RUN pnpm --recursive run build

# --- deploy: one app with its production dependencies only, into /out ---
FROM build AS deploy
ARG APP
RUN test -n "$APP" && test -d "apps/$APP" || { echo "build with --build-arg APP=<a folder under apps/>, got '$APP'" >&2; exit 1; }
# Copies what each package's "files" lists. inject-workspace-packages for
# this deploy only (pnpm 10's deploy wants it; development keeps symlinks):
# no `--legacy`, no "legacy deploy implementation" warning. Then what
# nothing runs goes (source maps, .d.ts, dependencies' tests and docs).
RUN --mount=type=cache,id=netlab-pnpm-store,target=/pnpm/store \
    pnpm --filter "@netlab/${APP}" deploy --prod --config.inject-workspace-packages=true \
      --store-dir /pnpm/store /out \
 && sh scripts/docker/prune-app.sh /out
# Every "bin" of the app as a command on PATH (tls-custom-protocol's client).
RUN mkdir /out-bin && node -e ' \
  const { bin = {} } = require("/out/package.json"); \
  for (const [name, file] of Object.entries(bin)) \
    require("fs").writeFileSync(`/out-bin/${name}`, `#!/bin/sh\nexec node /app/${file} "$@"\n`, { mode: 0o755 });'

# --- base: the node image without what running node does not need: npm,
# corepack and yarn (the apps are installed already), node's C headers,
# docs, man pages and locales (Debian's copyright files stay). Deleting in
# a layer does not shrink an image, so runtime copies the result as one. ---
FROM ${NODE_IMAGE} AS base
USER root
RUN rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx \
      /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-* \
      /usr/local/include /usr/local/share/doc /usr/local/share/man \
      /usr/share/man /usr/share/info /usr/share/locale /usr/share/i18n /usr/share/lintian \
      /var/cache/debconf/*-old /var/lib/apt/lists/* \
 && find /usr/share/doc -type f ! -name copyright -delete \
 && mkdir /certs && chown node:node /certs
# /certs: the mount point of docker-compose.yml's mtls profile; a named
# volume mounted there starts out owned by node, so the certs job can write.

# --- runtime: the deployed app, owned by root, run by node (uid 1000) ---
FROM scratch AS runtime
COPY --from=base / /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin NODE_ENV=production
WORKDIR /app
COPY --from=deploy /out /app
COPY --from=deploy /out-bin/ /usr/local/bin/
COPY scripts/docker/healthcheck.sh /usr/local/lib/netlab/healthcheck.sh
USER node
STOPSIGNAL SIGTERM
# Every 2 s, so a container is healthy within ~2 s of ready: the probe is
# bash's /dev/tcp (~2 ms of CPU), not a node process (~50 ms). Compose v1
# and Docker 20.10 have no --start-interval.
HEALTHCHECK --interval=2s --timeout=3s --start-period=30s --retries=3 \
  CMD ["/usr/local/lib/netlab/healthcheck.sh"]
CMD ["node", "dist/main.js"]

# --- per app: its default ports (from apps/<app>/src/config.ts; a test
# checks they agree). ADMIN_PORT is what the healthcheck probes. ---
FROM runtime AS app-tcp-echo
ENV ADMIN_PORT=9000
EXPOSE 7000/tcp 9000/tcp

FROM runtime AS app-http-hello
ENV ADMIN_PORT=9001
EXPOSE 8080/tcp 9001/tcp

FROM runtime AS app-https-secure
ENV ADMIN_PORT=9002
EXPOSE 8443/tcp 9002/tcp

FROM runtime AS app-udp-listener
ENV ADMIN_PORT=9003
EXPOSE 41234/udp 9003/tcp

FROM runtime AS app-dns-resolver-api
ENV ADMIN_PORT=9004
EXPOSE 8053/tcp 9004/tcp

FROM runtime AS app-tls-custom-protocol
ENV ADMIN_PORT=9005
EXPOSE 7443/tcp 9005/tcp

FROM runtime AS app-video-streamer
ENV ADMIN_PORT=9006
EXPOSE 8090/tcp 9006/tcp

FROM app-${APP}
