# The tlsaudit image: one static binary on a distroless static base (no shell, no
# libc). Build with `make image IMAGE=registry/tlsaudit:TAG`.
#
# The default user is nonroot (65532), enough for `tlsaudit analyze` on mounted
# captures. The node agent needs capabilities in its effective set, which Kubernetes
# grants to root containers only: the Helm chart runs it as uid 0 with every
# capability dropped but its engine's (README, "Install on Kubernetes").

FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN bash scripts/build-static.sh /out/tlsaudit

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/tlsaudit /usr/bin/tlsaudit
USER 65532:65532
ENTRYPOINT ["/usr/bin/tlsaudit"]
CMD ["--help"]
