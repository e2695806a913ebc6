# Chorus node. Build: docker build -t chorus .
# Run a dev chain:   docker run -p 26657:26657 -p 36656:36656 -v chorus-data:/data chorus --dev
FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
COPY genesis ./genesis
# the image's unprivileged user; the node's home (keys, genesis, LevelDB) is the volume
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
# 26657: JSON-RPC, 36656: peer-to-peer
EXPOSE 26657 36656
ENTRYPOINT ["node", "/app/bin/chorus.js", "start", "--home", "/data", "--rpc-host", "0.0.0.0", "--rpc-port", "26657", "--p2p-host", "0.0.0.0", "--p2p-port", "36656"]
CMD []
