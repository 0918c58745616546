# metallb-ts container image: one image for `metallb-ts controller` and `metallb-ts speaker`.
#   docker build -t ghcr.io/metallb-ts/metallb-ts:v0.1.0 .
# The speaker runs as root with only NET_RAW/NET_ADMIN/NET_BIND_SERVICE (see
# config/manifests/metallb-ts.yaml); the controller runs as nobody (65534).

FROM node:20-bookworm-slim AS build
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json binding.gyp ./
COPY native ./native
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bin ./bin
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
LABEL org.opencontainers.image.title="metallb-ts" \
      org.opencontainers.image.description="A TypeScript implementation of MetalLB (BGP and Layer 2 load balancer for bare-metal Kubernetes)" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/bin ./bin
COPY --from=build /src/build/Release/*.node ./build/Release/
COPY config ./config
USER 65534:65534
EXPOSE 7472
ENTRYPOINT ["node", "/app/bin/metallb-ts.js"]
CMD ["--help"]
