# 唱响 (changxiang): one image for the web process and the worker.
#   web:    docker run … image                       (CMD: node --heap-growing-percent=300 dist/src/main.js)
#   worker: docker run … image node dist/workers/main.js
# See docker-compose.yml for the production stack (PostgreSQL + S3-compatible storage).

# ---- build: install everything, compile TypeScript, then drop dev dependencies ----
FROM node:20-bookworm-slim AS build
WORKDIR /app
ENV NODE_ENV=development
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY workers ./workers
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: Debian's ffmpeg (5.1), production node_modules, compiled code, views, migrations ----
FROM node:20-bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    PORT=3000 \
    DATA_DIR=/data \
    FFMPEG_PATH=/usr/bin/ffmpeg \
    FFPROBE_PATH=/usr/bin/ffprobe
COPY --from=build --chown=node:node /app/package.json /app/package-lock.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node views ./views
COPY --chown=node:node public ./public
COPY --chown=node:node migrations ./migrations
# DATA_DIR holds upload temp files (and, without DATABASE_URL/S3_*, the embedded database and objects).
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
EXPOSE 3000
# The web process: V8 grows its old generation 4× the live heap (see "GC storms during uploads" in docs/benchmarks.md).
CMD ["node", "--heap-growing-percent=300", "dist/src/main.js"]
