# 唱响 (changxiang): one image for the web process, the workers and the setup command.
#   web:    docker run … image                                (CMD: node --heap-growing-percent=300 dist/src/main.js)
#   worker: docker run … image node dist/workers/main.js
#   setup:  docker run … image node dist/src/setup-cli.js     (database + bucket if missing, migrations)
# Commands are `node …` arrays, never `npm run …`: node is PID 1 and gets SIGTERM itself (web and
# worker stop gracefully on it). See docker-compose.yml for the production stack.
#
# NODE_IMAGE: a maintained Node LTS on Debian bookworm. The default is the official image; machines
# that cannot pull from Docker Hub pass a locally built one (deploy/container-smoke.sh does).
ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: install everything, compile TypeScript, then drop dev dependencies ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV NODE_ENV=development
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY workers ./workers
# The npm ffmpeg/ffprobe builds (a fallback for machines without ffmpeg, ~140 MB) are removed:
# the image has Debian's ffmpeg, and the app only loads them when no system ffmpeg exists.
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/@ffmpeg-installer/linux-* node_modules/@ffprobe-installer/linux-*

# ---- runtime: Debian's ffmpeg (5.1), production node_modules, compiled code, views, migrations ----
FROM ${NODE_IMAGE} AS runtime
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
# DATA_DIR holds upload spool and job work files (and, without DATABASE_URL/S3_*, the embedded
# database and objects). Each container gets its own volume: never share one between workers.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
EXPOSE 3000
# The web process: V8 grows its old generation 4× the live heap (see "GC storms during uploads" in docs/benchmarks.md).
CMD ["node", "--heap-growing-percent=300", "dist/src/main.js"]
