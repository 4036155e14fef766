# An S3-compatible service for machines that cannot pull MinIO from Docker Hub (CI here): s3rver
# (the S3 server the test suite already uses) in the node image. Its built-in account is
# S3RVER / S3RVER; buckets are made by the client (`npm run setup` creates the app's bucket).
#   S3RVER_ADDRESS (default 0.0.0.0), S3RVER_PORT (default 9000), data in /data.
ARG NODE_IMAGE=node:24-bookworm-slim
FROM ${NODE_IMAGE}
WORKDIR /opt/s3rver
RUN npm install --no-audit --no-fund --omit=dev s3rver@3.7.1 && mkdir -p /data && chown node:node /data
COPY s3rver-main.js ./main.js
USER node
VOLUME ["/data"]
CMD ["node", "main.js"]
