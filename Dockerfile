# berth in a container: `docker build -t berth . && docker run -p 5000:5000 -v berth-data:/var/lib/berth berth`
# Two stages: the first compiles TypeScript and the SQLite binding, the second carries only what runs.
FROM node:20-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bin ./bin
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY package.json ./
ENV REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=/var/lib/berth
VOLUME /var/lib/berth
EXPOSE 5000
USER node
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/app/dist/main.js"]
CMD ["serve"]
