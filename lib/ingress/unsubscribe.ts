// Email unsubscribe: a page behind the link, and the POST (a button, or a mail client's RFC 8058 one-click) that sets do_not_email.
import type { Sql, TransactionSql } from '../db';
import { optOut } from '../reminders/consent';
import { escapeHtml } from '../template';

export type UnsubscribeOutcome = { kind: 'unsubscribed'; companyName: string } | { kind: 'unknown' };

export async function unsubscribeByMessage(
  sql: Sql,
  messageUuid: string,
  how: string,
): Promise<UnsubscribeOutcome> {
  return (await sql.begin(async (t) => {
    const tx = t as TransactionSql;
    // an old email's link still works after the archive moved its message to history
    const [message] = await tx<
      { id: number; company_id: number; contact_id: number; company_name: string; archived: boolean }[]
    >`
      select m.id, m.company_id, m.contact_id, c.name as company_name, false as archived
      from messages m join companies c on c.id = m.company_id
      where m.uuid = ${messageUuid} and m.channel = 'email'
      union all
      select h.id, h.company_id, h.contact_id, c.name, true
      from messages_history h join companies c on c.id = h.company_id
      where h.uuid = ${messageUuid} and h.channel = 'email'
      limit 1`;
    if (!message) return { kind: 'unknown' };
    await optOut(tx, {
      companyId: message.company_id,
      contactIds: [message.contact_id],
      channels: ['email'],
      reason: how,
    });
    await tx`
      update ${tx(message.archived ? 'messages_history' : 'messages')}
      set contact_status = 'opted_out', raw_response = ${how}, last_event_at = now()
      where id = ${message.id} and company_id = ${message.company_id}`;
    return { kind: 'unsubscribed', companyName: message.company_name };
  })) as UnsubscribeOutcome;
}

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
  `<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title></head>` +
  `<body style="font-family:sans-serif;max-width:32em;margin:3em auto">${body}</body></html>`;

/**
 * The link itself only shows a button: mail scanners open every link in a message, and a GET that
 * unsubscribed would unsubscribe people who never clicked.
 */
export function confirmPage(action: string): string {
  return page(
    'Unsubscribe',
    `<h1>Unsubscribe</h1><p>Stop reminder emails to this address?</p>` +
      `<form method="post" action="${escapeHtml(action)}"><button type="submit">Unsubscribe</button></form>`,
  );
}

export function donePage(companyName: string): string {
  return page(
    'Unsubscribed',
    `<h1>You are unsubscribed</h1><p>${escapeHtml(companyName)} will not email you reminders any more.</p>`,
  );
}

export function notFoundPage(): string {
  return page(
    'Link not valid',
    '<h1>This link is not valid</h1><p>It may be incomplete. Reply to the email to unsubscribe instead.</p>',
  );
}
