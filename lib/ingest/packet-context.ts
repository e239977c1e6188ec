// Everything a packet's ingest reads before touching rows: the packet, its company, load map, source and locations.
import type { Sql } from '../db';
import { LoadMapNotFound, resolveLoadMapRef } from '../load-maps/refs';
import type { PacketRow } from '../packets';
import { normalizeHeader } from '../parse';
import { companySettingsSchema, type CompanySettings } from '../../schemas/company-settings';
import { formatZodIssues } from '../../schemas/load-map';
import { compileLoadMap, InvalidLoadMap, type CompiledMap } from '../load-maps/compile';
import { IngestProblem } from './errors';

export interface PacketContext {
  packet: PacketRow;
  company: { id: number; alias: string; name: string; timezone: string; settings: CompanySettings };
  loadMap: { id: number; name: string; version: number; compiled: CompiledMap };
  source: {
    id: number;
    name: string;
    refreshMode: 'append' | 'full_refresh';
    onDrift: 'hold' | 'evolve';
    onGarbledText: 'warn' | 'hold';
  } | null;
  /** a location's zone by its normalized name, or by `#` + its external id */
  locationZones: ReadonlyMap<string, string>;
}

export async function loadPacketRow(sql: Sql, packetUuid: string): Promise<PacketRow> {
  const [packet] = await sql<PacketRow[]>`select * from data_packets where uuid = ${packetUuid}`;
  if (!packet) throw new IngestProblem('UnknownPacket', `no packet has the id ${packetUuid}`);
  return packet;
}

export async function loadPacketContext(sql: Sql, packetUuid: string): Promise<PacketContext> {
  const packet = await loadPacketRow(sql, packetUuid);
  const [company] = await sql<
    { id: number; alias: string; name: string; timezone: string; active: boolean; settings: unknown }[]
  >`
    select id, alias, name, timezone, active, settings from companies where id = ${packet.company_id}`;
  if (!company)
    throw new IngestProblem(
      'UnknownCompany',
      `packet ${packetUuid} belongs to company ${packet.company_id}, which does not exist`,
    );
  if (!company.active)
    throw new IngestProblem(
      'InactiveCompany',
      `company ${company.alias} is inactive; activate it before loading its files`,
    );
  const settings = companySettingsSchema.safeParse(company.settings);
  if (!settings.success) {
    throw new IngestProblem(
      'InvalidCompanySettings',
      `company ${company.alias} has invalid settings: ${formatZodIssues(settings.error)}`,
    );
  }

  const [source] = packet.source_id
    ? await sql<
        {
          id: number;
          name: string;
          refresh_mode: 'append' | 'full_refresh';
          on_drift: 'hold' | 'evolve';
          on_garbled_text: 'warn' | 'hold';
          load_map_name: string | null;
        }[]
      >`
        select id, name, refresh_mode, on_drift, on_garbled_text, load_map_name from data_ingest_sources
        where id = ${packet.source_id} and company_id = ${company.id}`
    : [];
  const maps = await sql<{ id: number; name: string; version: number; load_map: unknown; active: boolean }[]>`
    select id, name, version, load_map, active from company_load_maps
    where company_id = ${company.id} and (id = ${packet.load_map_id ?? 0} or active)
    order by name, version desc`;
  // the source names its map as `name` (the active version) or `name@N` (that version only)
  const wanted = source?.load_map_name;
  const chosen = packet.load_map_id
    ? maps.find((m) => m.id === packet.load_map_id)
    : wanted
      ? await sourceMap(sql, company, wanted)
      : maps.length === 1
        ? maps[0]
        : undefined;
  if (!chosen) {
    const names = [...new Set(maps.filter((m) => m.active).map((m) => m.name))].join(', ') || 'none';
    throw new IngestProblem(
      'NoLoadMap',
      `company ${company.alias} has no load map for this packet (wanted ${wanted ?? 'its only active map'}; active maps: ${names}); name one on the source or with --load-map`,
    );
  }
  const [dedupe] = await sql<{ criteria: { fields?: unknown } }[]>`
    select criteria from contact_blocks
    where company_id = ${company.id} and purpose = 'dedupe' and active order by id limit 1`;
  const fields = Array.isArray(dedupe?.criteria.fields) ? dedupe.criteria.fields.map(String) : undefined;
  const compiled = compileOrExplain(chosen.load_map, `${chosen.name} v${chosen.version}`, fields);

  const locationZones = await loadLocationZones(sql, company.id);
  return {
    packet,
    company: {
      id: company.id,
      alias: company.alias,
      name: company.name,
      timezone: company.timezone,
      settings: settings.data,
    },
    loadMap: { id: chosen.id, name: chosen.name, version: chosen.version, compiled },
    source: source
      ? {
          id: source.id,
          name: source.name,
          refreshMode: source.refresh_mode,
          onDrift: source.on_drift,
          onGarbledText: source.on_garbled_text,
        }
      : null,
    locationZones,
  };
}

/** A stored map that no longer compiles is the company's to fix: retrying the packet cannot help. */
function compileOrExplain(raw: unknown, label: string, dedupe: readonly string[] | undefined): CompiledMap {
  try {
    return compileLoadMap(raw, label, dedupe);
  } catch (err) {
    if (err instanceof InvalidLoadMap) throw new IngestProblem('InvalidLoadMap', err.message);
    throw err;
  }
}

async function sourceMap(
  sql: Sql,
  company: { id: number; alias: string },
  reference: string,
): Promise<{ id: number; name: string; version: number; load_map: unknown } | undefined> {
  try {
    const found = await resolveLoadMapRef(sql, company.id, company.alias, reference);
    return { id: found.id, name: found.name, version: found.version, load_map: found.loadMap };
  } catch (err) {
    if (err instanceof LoadMapNotFound) return undefined;
    throw err;
  }
}

/** The company's locations that have a zone, keyed as `locationTimezoneOf` looks them up. */
export async function loadLocationZones(sql: Sql, companyId: number): Promise<Map<string, string>> {
  const locations = await sql<{ name: string; external_id: string | null; timezone: string }[]>`
    select name, external_id, timezone from company_locations where company_id = ${companyId} and timezone is not null`;
  const zones = new Map<string, string>();
  for (const l of locations) {
    zones.set(normalizeHeader(l.name), l.timezone);
    if (l.external_id) zones.set(`#${l.external_id}`, l.timezone);
  }
  return zones;
}

/** The zone a row's location names: by external id first, then by name compared like headers. */
export function locationTimezoneOf(zones: ReadonlyMap<string, string>) {
  // a file names its few locations on every row: each spelling is normalized once
  const byName = new Map<string, string | undefined>();
  return (location: string | null, locationId: string | null): string | undefined => {
    const byId = locationId ? zones.get(`#${locationId}`) : undefined;
    if (byId || !location) return byId;
    if (!byName.has(location) && byName.size < 10_000)
      byName.set(location, zones.get(normalizeHeader(location)));
    return byName.has(location) ? byName.get(location) : zones.get(normalizeHeader(location));
  };
}
