#!/bin/sh
# One-shot set-up of herald's Temporal namespace (run by the temporal-namespace service of docker-compose.yml):
# the namespace with its retention and archival, then herald's search attributes (lib/names.ts).
set -eu
: "${TEMPORAL_ADDRESS:?}" "${TEMPORAL_NAMESPACE:?}"
RETENTION="${TEMPORAL_RETENTION:-7d}"

until temporal operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; do
  echo "waiting for Temporal at $TEMPORAL_ADDRESS"; sleep 2
done

# Archival URIs cannot change once enabled; the filestore provider writes to the temporal_archival volume
# (the server image's configuration enables archival at cluster level with the filestore provider).
if ! temporal operator namespace describe --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; then
  temporal operator namespace create --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" \
    --retention "$RETENTION" \
    --history-archival-state enabled --history-uri "file:///etc/temporal/archival/history" \
    --visibility-archival-state enabled --visibility-uri "file:///etc/temporal/archival/visibility"
fi

# herald's search attributes, all Keyword (never personal data); creating an existing one is refused, which is fine
for name in CompanyAlias PacketId PacketStage Region Channel; do
  temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" \
    --name "$name" --type Keyword || echo "search attribute $name exists"
done
temporal operator search-attribute list --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE"
