# berth in a container, for machines that reach Docker Hub, the npm registry and Debian's mirror:
#   docker build -t berth . && docker run -d -p 5000:5000 -v /srv/berth:/data berth
# CI does not build this file: it builds and tests deploy/build-image.sh (test/image/image.test.ts),
# which makes the same image offline from the machine's Node. Keep the two alike: user 10001,
# /data, /etc/berth/config.yml, the entrypoint, the port, the stop signal.
# Two stages: the first compiles TypeScript, the web UI, the SQLite binding and the native addons;
# the second carries only what runs.
FROM node:20-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# npm ci's install script builds native/ (sendfile(2) for pulls, aligned buffers and sha256 for pushes)
COPY native ./native
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bin ./bin
COPY ui ./ui
RUN npm run build && npm run build:ui && npm prune --omit=dev \
  && rm -rf node_modules/better-sqlite3/deps node_modules/better-sqlite3/src

FROM node:20-bookworm-slim
RUN groupadd --gid 10001 berth && useradd --uid 10001 --gid 10001 --home-dir /data --shell /usr/sbin/nologin berth \
  && mkdir /data && chown berth:berth /data
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/ui/dist ./ui/dist
COPY --from=build /app/native/build/Release ./native/build/Release
COPY --from=build /app/bin ./bin
COPY package.json ./
COPY deploy/image-config.yml /etc/berth/config.yml
RUN ln -s /app/bin/berth.js /usr/local/bin/berth
ENV NODE_ENV=production REGISTRY_CONFIGURATION_PATH=/etc/berth/config.yml
VOLUME /data
EXPOSE 5000
USER 10001:10001
STOPSIGNAL SIGTERM
LABEL org.opencontainers.image.title=berth org.opencontainers.image.licenses=Apache-2.0
ENTRYPOINT ["node", "--max-semi-space-size=8", "/app/bin/berth.js"]
CMD ["serve"]
