// Two companies text one family phone; the person answers C. On a shared number it must confirm neither
// (and be kept, for operators); on numbers of their own, only the company whose number it came to.
import { randomUUID } from 'node:crypto';
import { createTestAccount, createTestCompany, type TestCompany } from '../../support/dispatch';
import { ZERO, type ChaosCounts, type ChaosScenario } from '../support/counts';
import { appointmentStatus, doNotSms, families, startReplyIngress, type Family } from '../support/replies';
import { finished, runWorkers, startSmsDispatch } from '../support/sms-dispatch';
import { chaosWorld, volume, type ChaosWorld } from '../support/world';

const randomNumber = () => `+1617${Math.floor(1_000_000 + Math.random() * 8_999_999)}`;

interface Texted {
  /** the company the person means */
  meant: TestCompany;
  other: TestCompany;
  people: Family[];
  /** the number each company texted from, by company id */
  from: Map<number, string>;
}

/** Families with an appointment at two companies, each texted by both (the other company last). */
async function textBoth(world: ChaosWorld, count: number, own: boolean): Promise<Texted> {
  const meant = await createTestCompany(world.sql, { credits: 100 });
  const other = await createTestCompany(world.sql, { credits: 100 });
  const shared = randomNumber();
  const account = await createTestAccount(world.sql, {
    channel: 'sms',
    provider: 'twilio',
    maxPerSecond: 20,
    batchSize: 20,
    senders: [{ address: shared, kind: 'short_code', maxPerSecond: 20 }],
  });
  const from = new Map<number, string>();
  for (const company of [meant, other]) {
    const address = own ? randomNumber() : shared;
    if (own)
      await world.sql`
        insert into sender_numbers (account_id, company_id, address, kind, max_per_second)
        values (${account.id}, ${company.id}, ${address}, 'long_code', 20)`;
    from.set(company.id, address);
  }
  const people = await families(world, [meant, other], count);
  const queue = `chaos-${randomUUID()}`;
  const runs = [meant, other].map((company) => ({
    company,
    account,
    messageIds: [],
    phones: [],
    queue,
    since: 0,
  }));
  const workers = await runWorkers(world, runs[0]!, 1);
  try {
    for (const run of runs) await finished(await startSmsDispatch(world, run));
  } finally {
    await workers.stop();
  }
  return { meant, other, people, from };
}

/** Texts of these companies that went from a number other than the one they should have. */
async function strayTexts(world: ChaosWorld, t: Texted): Promise<number> {
  let n = 0;
  for (const [companyId, address] of t.from) {
    const [row] = await world.sql<{ n: number }[]>`
      select count(*)::int as n from messages
      where company_id = ${companyId} and state = 'sent' and from_address is distinct from ${address}`;
    n += row!.n;
  }
  return n;
}

export const scenario: ChaosScenario = {
  name: 'shared-number-reply',
  short: true,
  async run() {
    const world = await chaosWorld();
    const count = volume(5, 20);
    const counts: ChaosCounts = { ...ZERO };
    const ingress = await startReplyIngress(world);
    try {
      // 1. one number shared by both: a C cannot say whose it is, so it acts on neither (a right guess is still a guess)
      const shared = await textBoth(world, count, false);
      const number = shared.from.get(shared.meant.id)!;
      for (const p of shared.people) await ingress.reply(p.phone, number, 'C');
      for (const p of shared.people)
        for (const company of [shared.meant, shared.other])
          if ((await appointmentStatus(world, p.at.get(company.id)!.appointmentId)) === 'confirmed')
            counts.wrong_tenant++;
      const [kept] = await world.sql<{ n: number }[]>`
        select count(*)::int as n from inbound_messages
        where to_address = ${number} and ambiguous and from_address in ${world.sql(shared.people.map((p) => p.phone))}`;
      counts.lost += count - kept!.n;
      counts.wrong_tenant += await strayTexts(world, shared);

      // 2. numbers of their own: a C confirms the company whose number it came to, a STOP stops only its texts
      const own = await textBoth(world, count, true);
      for (const p of own.people) {
        await ingress.reply(p.phone, own.from.get(own.meant.id)!, 'C');
        await ingress.reply(p.phone, own.from.get(own.other.id)!, 'STOP');
      }
      for (const p of own.people) {
        const mine = p.at.get(own.meant.id)!;
        const theirs = p.at.get(own.other.id)!;
        if ((await appointmentStatus(world, mine.appointmentId)) !== 'confirmed') counts.lost++;
        if ((await appointmentStatus(world, theirs.appointmentId)) === 'confirmed') counts.wrong_tenant++;
        if (await doNotSms(world, mine.contactId)) counts.wrong_tenant++;
        if (!(await doNotSms(world, theirs.contactId))) counts.lost++;
      }
      counts.wrong_tenant += await strayTexts(world, own);
      return counts;
    } finally {
      await ingress.close();
    }
  },
};
