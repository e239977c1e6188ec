#!/bin/sh
# One-shot set-up of Temporal's databases (run by the temporal-schema service of docker-compose.yml): each
# is created if missing, then brought to the schema version of this admin-tools image, which matches the server.
set -eu
: "${SQL_PASSWORD:?}"
sql() { temporal-sql-tool --plugin postgres12 --ep postgres -p 5432 -u herald "$@"; }

until nc -z -w 2 postgres 5432; do echo 'waiting for Postgres'; sleep 2; done

for db in temporal temporal_visibility; do
  case "$db" in temporal) dir=temporal ;; *) dir=visibility ;; esac
  # both refuse what already exists: a second start goes on to the update, which is idempotent
  sql --db "$db" create || echo "database $db exists"
  sql --db "$db" setup-schema -v 0.0 || echo "database $db has a schema"
  sql --db "$db" update-schema -d "/etc/temporal/schema/postgresql/v12/$dir/versioned"
done
echo 'Temporal schema is up to date'
