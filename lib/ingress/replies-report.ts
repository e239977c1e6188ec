// What came back as replies lately, for operators: how many acted, found no reminder, or could belong to several companies.
import type { Sql } from '../db';

export interface RepliesReport {
  /** matched one company's text from the number they came to */
  matched: number;
  /** named no text of ours from that number in the reply window */
  unmatched: number;
  /** more than one company texted the phone from that number: acted on nobody (STOP and START aside) */
  ambiguous: number;
  /** the ambiguous ones, newest first */
  waiting: {
    receivedAt: Date;
    /** our number it came to */
    to: string;
    /** the sender's number with all but its last four digits hidden */
    from: string;
    intent: string;
    body: string;
    /** aliases of the companies it could be for */
    companies: string[];
  }[];
}

export async function repliesReport(
  sql: Sql,
  opts: { sinceDays: number; limit: number },
): Promise<RepliesReport> {
  const since = sql`now() - make_interval(days => ${opts.sinceDays})`;
  const [counts] = await sql<{ matched: number; unmatched: number; ambiguous: number }[]>`
    select count(*) filter (where not ambiguous and company_id is not null)::int as matched,
           count(*) filter (where not ambiguous and company_id is null)::int as unmatched,
           count(*) filter (where ambiguous)::int as ambiguous
    from inbound_messages where channel = 'sms' and received_at > ${since}`;
  const rows = await sql<
    {
      received_at: Date;
      to_address: string;
      from_address: string;
      intent: string;
      body: string;
      companies: string[];
    }[]
  >`
    select i.received_at, i.to_address, i.from_address, i.intent, i.body,
           array(select c.alias from jsonb_array_elements(i.candidates) e
                 join companies c on c.id = (e ->> 'companyId')::bigint order by c.alias) as companies
    from inbound_messages i
    where i.ambiguous and i.received_at > ${since}
    order by i.received_at desc
    limit ${opts.limit}`;
  return {
    ...counts!,
    waiting: rows.map((r) => ({
      receivedAt: r.received_at,
      to: r.to_address,
      from: r.from_address.replace(/\d(?=\d{4})/g, '•'),
      intent: r.intent,
      body: r.body,
      companies: r.companies,
    })),
  };
}
