// Ingest-source rows: saved from an operator's definition, read back checked against their kind's schema.
import { withActor, type Sql } from '../db';
import { LoadMapNotFound, resolveLoadMapRef } from '../load-maps/refs';
import { SourceError } from './errors';
import { formatZodIssues } from '../../schemas/load-map';
import { ingestSourceSchema, type IngestSource, type IngestSourceInput } from '../../schemas/ingest-source';

export type StoredSource = IngestSource & {
  id: number;
  uuid: string;
  companyId: number;
  companyAlias: string;
};

/** A source definition that cannot be used as written: the message names the field and what to change. */
export class SourceConfigError extends SourceError {
  override readonly name = 'SourceConfigError';
  constructor(message: string) {
    super('SourceConfig', message, true);
  }
}

interface SourceRow {
  id: number;
  uuid: string;
  company_id: number;
  company_alias: string;
  name: string;
  kind: string;
  config: unknown;
  schedule: string | null;
  load_map_name: string | null;
  refresh_mode: string;
  on_drift: string;
  on_garbled_text: string;
  active: boolean;
}

export function parseSourceDefinition(input: unknown, where = 'source'): IngestSource {
  const parsed = ingestSourceSchema.safeParse(input);
  if (!parsed.success) throw new SourceConfigError(`${where}: ${formatZodIssues(parsed.error)}`);
  return parsed.data;
}

function fromRow(row: SourceRow): StoredSource {
  const source = parseSourceDefinition(
    {
      name: row.name,
      kind: row.kind,
      config: row.config,
      schedule: row.schedule,
      loadMap: row.load_map_name,
      refreshMode: row.refresh_mode,
      onDrift: row.on_drift,
      onGarbledText: row.on_garbled_text,
      active: row.active,
    },
    `source ${row.company_alias}/${row.name}`,
  );
  return {
    ...source,
    id: row.id,
    uuid: row.uuid,
    companyId: row.company_id,
    companyAlias: row.company_alias,
  };
}

const selectSources = (sql: Sql) => sql`
  select s.id, s.uuid, s.company_id, c.alias as company_alias, s.name, s.kind, s.config, s.schedule,
         s.load_map_name, s.refresh_mode, s.on_drift, s.on_garbled_text, s.active
  from data_ingest_sources s join companies c on c.id = s.company_id`;

/** Adds a source, or replaces the definition of the company's source of that name. */
export async function saveSource(
  sql: Sql,
  companyAlias: string,
  input: IngestSourceInput,
  actor: string,
): Promise<{ source: StoredSource; created: boolean }> {
  const source = parseSourceDefinition(input);
  const [company] = await sql<{ id: number }[]>`select id from companies where alias = ${companyAlias}`;
  if (!company) throw new SourceConfigError(`no company has the alias "${companyAlias}"`);
  if (source.loadMap) {
    try {
      await resolveLoadMapRef(sql, company.id, companyAlias, source.loadMap);
    } catch (err) {
      if (err instanceof LoadMapNotFound) throw new SourceConfigError(err.message);
      throw err;
    }
  }
  const saved = await withActor(sql, actor, async (tx) => {
    const [row] = await tx<{ id: number; created: boolean }[]>`
      insert into data_ingest_sources (company_id, name, kind, config, schedule, load_map_name, refresh_mode,
                                       on_drift, on_garbled_text, active)
      values (${company.id}, ${source.name}, ${source.kind}, ${tx.json(source.config as never)}, ${source.schedule},
              ${source.loadMap}, ${source.refreshMode}, ${source.onDrift}, ${source.onGarbledText}, ${source.active})
      on conflict (company_id, name) do update
        set kind = excluded.kind, config = excluded.config, schedule = excluded.schedule,
            load_map_name = excluded.load_map_name, refresh_mode = excluded.refresh_mode,
            on_drift = excluded.on_drift, on_garbled_text = excluded.on_garbled_text, active = excluded.active
      returning id, (xmax = 0) as created`;
    return row!;
  });
  const stored = await findSourceById(sql, saved.id);
  return { source: stored!, created: saved.created };
}

async function findSourceById(sql: Sql, id: number): Promise<StoredSource | undefined> {
  const [row] = await sql<SourceRow[]>`${selectSources(sql)} where s.id = ${id}`;
  return row && fromRow(row);
}

export async function findSourceByUuid(sql: Sql, uuid: string): Promise<StoredSource | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(uuid)) return undefined;
  const [row] = await sql<SourceRow[]>`${selectSources(sql)} where s.uuid = ${uuid}`;
  return row && fromRow(row);
}

export async function findSourceByName(
  sql: Sql,
  companyAlias: string,
  name: string,
): Promise<StoredSource | undefined> {
  const [row] = await sql<
    SourceRow[]
  >`${selectSources(sql)} where c.alias = ${companyAlias} and s.name = ${name}`;
  return row && fromRow(row);
}

export interface SourceListing {
  uuid: string;
  companyAlias: string;
  name: string;
  kind: string;
  schedule: string | null;
  loadMap: string | null;
  refreshMode: string;
  onDrift: string;
  onGarbledText: string;
  active: boolean;
  packets: number;
  lastPacketAt: Date | null;
}

/** Lists sources without parsing their config, so one broken row does not hide the others. */
export async function listSources(sql: Sql, companyAlias?: string): Promise<SourceListing[]> {
  return sql<SourceListing[]>`
    select s.uuid, c.alias as "companyAlias", s.name, s.kind, s.schedule, s.load_map_name as "loadMap",
           s.refresh_mode as "refreshMode", s.on_drift as "onDrift", s.on_garbled_text as "onGarbledText", s.active,
           (select count(*)::int from data_packets p where p.source_id = s.id) as packets,
           (select max(p.created_at) from data_packets p where p.source_id = s.id) as "lastPacketAt"
    from data_ingest_sources s join companies c on c.id = s.company_id
    ${companyAlias ? sql`where c.alias = ${companyAlias}` : sql``}
    order by c.alias, s.name`;
}
