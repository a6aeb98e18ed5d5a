# gitops-tui's agent image. Build and push it to a registry your cluster
# pulls from, then set that name in assets/deploy/agent.yaml:
#   docker build -t REGISTRY/gitops-tui:0.1.0 .
#   docker push REGISTRY/gitops-tui:0.1.0
# (no image is published for you: the tag is yours.)

# Build: the locked dependency versions, release profile.
FROM rust:1.89-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin gitops-tui \
 && strip target/release/gitops-tui

# Run: git for fetching the apps' remote repositories, CA certificates for
# https remotes and the API server, kubectl for kustomize folders; no shell
# tools beyond Debian's base, and not root.
FROM debian:bookworm-slim
ARG KUBECTL_VERSION=v1.32.3
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates openssh-client curl \
 && curl -fsSLo /usr/local/bin/kubectl "https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/amd64/kubectl" \
 && chmod 0755 /usr/local/bin/kubectl \
 && apt-get purge -y curl && apt-get autoremove -y \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 65532 --user-group --home-dir /home/agent --create-home agent
COPY --from=build /src/target/release/gitops-tui /usr/local/bin/gitops-tui
USER 65532:65532
ENV XDG_CACHE_HOME=/var/cache/gitops-tui
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/gitops-tui"]
CMD ["agent", "--config", "/etc/gitops-tui/config.toml", "-o", "json", "--metrics-addr", "0.0.0.0:8080"]
