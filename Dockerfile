# waorders container image: the static binary alone, FROM scratch, run as
# an unprivileged user. Build the binary first (no compiler in the image,
# and no registry needed to build it):
#
#   make build                       # CGO_ENABLED=0: static bin/waorders
#   podman build -t waorders:$(git describe --tags) .    # or docker build
#
# Run it with its data on a volume; the API, metrics and profiler on a
# second port that is not published to the internet (see docs/deployment.md):
#
#   podman run -d -p 8080:8080 -p 127.0.0.1:9090:9090 -v waorders-data:/data \
#     -e WAORDERS_CALLBACK_SECRET_FILE=/run/secrets/callback-secret ... waorders
FROM scratch
COPY bin/waorders /waorders
# /data belongs to the unprivileged user; the SQLite file is created 0600.
COPY --chown=65532:65532 deploy/container/data/ /data/
USER 65532:65532
ENV WAORDERS_ADDR=0.0.0.0:8080 \
    WAORDERS_ADMIN_ADDR=0.0.0.0:9090 \
    WAORDERS_DATABASE_URL=/data/waorders.db \
    WAORDERS_LOG_FORMAT=json
VOLUME /data
WORKDIR /data
EXPOSE 8080 9090
# No shell or curl in the image: the orchestrator probes /readyz over HTTP.
ENTRYPOINT ["/waorders"]
CMD ["serve"]
