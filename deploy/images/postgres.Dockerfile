# A local stand-in for the official `postgres` image (Debian's PostgreSQL 15), for machines that
# cannot pull from Docker Hub (CI here). It honours the same variables as the official image:
# POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB, PGDATA (default /var/lib/postgresql/data) and PGPORT;
# `postgres -c name=value …` as the command passes settings to the server.
ARG BASE_IMAGE=changxiang/debian:bookworm
FROM ${BASE_IMAGE}
RUN set -eu; \
    mkdir -p /etc/postgresql-common; \
    echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf; \
    apt-get update; \
    apt-get install -y --no-install-recommends postgresql-15; \
    rm -rf /var/lib/apt/lists/*; \
    mkdir -p /var/run/postgresql /var/lib/postgresql/data; \
    chown -R postgres:postgres /var/run/postgresql /var/lib/postgresql; \
    chmod 2777 /var/run/postgresql
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint.sh
VOLUME ["/var/lib/postgresql/data"]
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint.sh"]
# Fast shutdown (like the official image): SIGTERM would wait for every client to disconnect.
STOPSIGNAL SIGINT
CMD ["postgres"]
