# scope-energie: the service on Node 20 (better-sqlite3 12 is built from source in the build stage).
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production SCOPE_ENERGIE_DATA=/var/lib/scope-energie
COPY --from=build /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
COPY config ./config
COPY devices ./devices
COPY rules ./rules
RUN mkdir -p /var/lib/scope-energie && chown node:node /var/lib/scope-energie
USER node
EXPOSE 8080 1883
VOLUME ["/var/lib/scope-energie"]
# Liveness only (/healthz is about the process): /readyz fails while the store or the broker is
# away, which restarting would not fix. Docker does not restart an unhealthy container by itself:
# run with a restart policy (`--restart unless-stopped`, docker-compose.yml) so a crash is undone.
HEALTHCHECK --interval=30s --timeout=3s --retries=3 CMD node -e "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# SIGTERM: leases handed over, `offline` said, exit within server.stop_timeout_s (10 s), inside
# Docker's default 10 s grace only if you keep it lower: docker-compose.yml gives 20 s.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "bin/scope-energie.js"]
CMD ["serve"]
