# herald's production image: the workers, the HTTP ingress and the CLI, with the workflow bundle prebuilt.
# Node's current LTS; only production dependencies (no embedded Postgres, no @temporalio/testing, no
# test/ or bench/: .dockerignore).

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# patches to dependencies (patches/README.md), applied by npm's postinstall
COPY patches ./patches
RUN npm ci --no-audit --no-fund --loglevel=error
COPY . .
# workers load this bundle instead of bundling the workflows at every start
RUN node --import tsx scripts/build-workflows.ts

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    CI=true \
    HERALD_DATA_DIR=/tmp/herald \
    WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js \
    OPS_PORT=9464
# dependencies first, so a code change does not reinstall them
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error && npm cache clean --force
COPY . .
COPY --from=build /app/dist ./dist
USER node
# every herald process answers /readyz on OPS_PORT once it can do its work
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=6 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.OPS_PORT || 9464) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# docker-compose.yml chooses the task queues per service (WORKER_TASK_QUEUES, WORKER_SEND_ACCOUNTS)
CMD ["node", "--import", "tsx", "workers/main.ts"]
