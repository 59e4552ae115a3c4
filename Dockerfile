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
# --legacy: deploy without injected workspace packages, which the repo
# does not use for development. Copies what each package's "files" lists.
RUN --mount=type=cache,id=netlab-pnpm-store,target=/pnpm/store \
    pnpm --filter "@netlab/${APP}" deploy --prod --legacy --store-dir /pnpm/store /out
# Every "bin" of the app as a command on PATH (tls-custom-protocol's client).
RUN mkdir /out-bin && node -e ' \
  const { bin = {} } = require("/out/package.json"); \
  for (const [name, file] of Object.entries(bin)) \
    require("fs").writeFileSync(`/out-bin/${name}`, `#!/bin/sh\nexec node /app/${file} "$@"\n`, { mode: 0o755 });'

# --- runtime: the deployed app, owned by root, run by node (uid 1000) ---
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deploy /out /app
COPY --from=deploy /out-bin/ /usr/local/bin/
COPY scripts/docker/healthcheck.mjs /usr/local/lib/netlab/healthcheck.mjs
# Mount point for certificates (docker-compose.yml's mtls profile): a named
# volume mounted here starts out owned by node, so the certs job can write.
RUN mkdir /certs && chown node:node /certs
USER node
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "/usr/local/lib/netlab/healthcheck.mjs"]
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
