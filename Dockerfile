# herald's image: the workers, the HTTP ingress and the CLI, with the workflow bundle prebuilt.
FROM node:20-bookworm-slim

WORKDIR /app
ENV NODE_ENV=production \
    CI=true \
    HERALD_DATA_DIR=/tmp/herald \
    WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js \
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true

# dependencies first, so a code change does not reinstall them
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

COPY . .
# workers load this bundle instead of bundling the workflows at every start
RUN node --import tsx scripts/build-workflows.ts && chown -R node:node /app/dist

USER node
# docker-compose.yml chooses the task queues per service (WORKER_TASK_QUEUES, WORKER_SEND_ACCOUNTS)
CMD ["node", "--import", "tsx", "workers/main.ts"]
