# Chorus node, compiled. Build: docker build -t chorus .
#   docker run --rm -v chorus-data:/data chorus keys new alice      any `chorus` command; its home is /data
#   docker run -d -p 26657:26657 -p 36656:36656 -v chorus-data:/data chorus
#                                                                    the node: CMD is `chorus start --home /data …`
# Stages: `build` compiles src/ to dist/ with every dependency; `deps` installs the production
# dependencies alone; the image holds dist/, bin/, genesis/, package.json and those.

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` (the build) would run before src/ is here; it runs below
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY web ./web
RUN npm run build && rm dist/.tsbuildinfo

FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts skips `prepare` (the build needs the dev dependencies); `npm rebuild` then runs
# the dependencies' own install scripts (LevelDB's native binding finds its prebuilt binary)
RUN npm ci --omit=dev --ignore-scripts && npm rebuild && npm cache clean --force

FROM node:24-slim
# CHORUS_HOME: every command's default home is the volume, so `keys`, `init` and `tx` find the node's keys and genesis
ENV NODE_ENV=production CHORUS_HOME=/data
WORKDIR /app
# package.json: "type": "module" for dist/, and the version
COPY package.json ./
COPY bin ./bin
COPY genesis ./genesis
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# `chorus` on PATH (for `docker exec … chorus query head` too); /data belongs to the unprivileged user
RUN chmod 0755 bin/chorus.js \
  && ln -s /app/bin/chorus.js /usr/local/bin/chorus \
  && mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
# 26657: JSON-RPC (GET /health answers 503 while the head is not advancing), 36656: peer-to-peer
EXPOSE 26657 36656
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:26657/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["chorus"]
CMD ["start", "--home", "/data", "--rpc-host", "0.0.0.0", "--rpc-port", "26657", "--p2p-host", "0.0.0.0", "--p2p-port", "36656"]
