-- Two more demo companies whose exports the example load maps read: a school district (an XLSX roster
-- of parent-teacher conferences) and a water utility (a semicolon-delimited Windows-1252 service-notice
-- list). Their load maps come from loadmaps/*.json, which name these aliases.

insert into companies (alias, name, timezone, phone_number, email_from, email_reply_to, details, settings)
values
  ('demo-school', 'Cedar Valley School District', 'America/Chicago', '+13125550142',
   'notices@cedarvalley-schools.example', 'frontoffice@cedarvalley-schools.example',
   '{"address_1": "400 Prairie Avenue", "city": "Naperville", "state": "IL", "zip": "60540",
     "technical_contact_first_name": "Dana", "technical_contact_last_name": "Whitfield"}',
   -- parents read texts in the evening; a call the evening before; a text an hour before
   '{"reminderPlan": [
       {"step": "sms-2d", "channel": "sms", "template": "conference_reminder", "offset": {"days": -2}, "at": "18:00"},
       {"step": "voice-1d", "channel": "voice", "template": "conference_reminder", "offset": {"days": -1}, "at": "18:30"},
       {"step": "sms-1h", "channel": "sms", "template": "conference_reminder", "offset": {"hours": -1}}
     ],
     "fallbackChannel": "email"}'),
  ('demo-utility', 'Bayside Water & Power', 'America/Los_Angeles', '+14155550187',
   'outages@baysidewater.example', 'customercare@baysidewater.example',
   '{"address_1": "1 Embarcadero Way", "city": "Oakland", "state": "CA", "zip": "94607"}',
   -- a service interruption is announced three days ahead and again the morning of the work
   '{"reminderPlan": [
       {"step": "sms-3d", "channel": "sms", "template": "service_notice", "offset": {"days": -3}, "at": "09:00"},
       {"step": "email-3d", "channel": "email", "template": "service_notice", "offset": {"days": -3}, "at": "09:00"},
       {"step": "sms-day", "channel": "sms", "template": "service_notice", "offset": {"days": 0}, "at": "07:00"}
     ],
     "fallbackChannel": "voice"}');

insert into company_locations (company_id, external_id, name, address_1, city, state, zip, timezone)
select c.id, l.external_id, l.name, l.address_1, l.city, l.state, l.zip, l.timezone
from companies c
join (values
  ('demo-school', 'MGE', 'Maple Grove Elementary', '1200 Maple Grove Road', 'Naperville', 'IL', '60540', 'America/Chicago'),
  ('demo-school', 'CVMS', 'Cedar Valley Middle School', '85 Schoolhouse Lane', 'Naperville', 'IL', '60563', 'America/Chicago'),
  ('demo-utility', 'OAK-YARD', 'Oakland Service Yard', '2200 Wood Street', 'Oakland', 'CA', '94607', 'America/Los_Angeles')
) as l (alias, external_id, name, address_1, city, state, zip, timezone) on l.alias = c.alias;

-- the schools are the district's "customers" (big districts delegate to each school)
insert into customers (company_id, external_id, name)
select c.id, s.external_id, s.name
from companies c
join (values ('MGE', 'Maple Grove Elementary'), ('CVMS', 'Cedar Valley Middle School')) as s (external_id, name) on true
where c.alias = 'demo-school';

insert into company_plans (company_id, plan, max_sms_per_day, max_voice_per_day, max_email_per_day, max_sms_segments)
select id, 'standard', 3000, 1500, 3000, 3 from companies where alias = 'demo-school'
union all
select id, 'standard', 20000, 2000, 20000, 2 from companies where alias = 'demo-utility';

-- a guardian with two children is one contact with two conferences; a utility account is one contact
insert into contact_blocks (company_id, purpose, name, criteria)
select id, 'dedupe', 'guardian name and phone', '{"fields": ["first_name", "last_name", "phone"]}'::jsonb from companies where alias = 'demo-school'
union all
select id, 'dedupe', 'account number', '{"fields": ["external_id"]}'::jsonb from companies where alias = 'demo-utility';

insert into message_templates (scope, company_id, channel, name, category, subject, body, html_body, details)
select 'company', c.id, t.channel, t.name, t.category, t.subject, t.body, t.html_body, t.details::jsonb
from companies c
join (values
  ('demo-school', 'sms', 'conference_reminder', 'School', null,
   'Hi {data.first_name}, {company.name} reminds you of your parent-teacher conference with {data.provider} on {data.appointment_date|date|ddd MMM D [at] h:mm A}. Reply C to confirm, STOP to opt out.',
   null, '{}'),
  ('demo-school', 'voice', 'conference_reminder', 'School', null,
   'Hello {data.first_name}. This is {company.name} reminding you of your parent-teacher conference with {data.provider} on {data.appointment_date|date|dddd, MMMM D [at] h:mm A}.',
   null, '{"snippets": {"confirm_prompt": "Press 1 to confirm. Press 2 if you need a different time.", "confirmed": "Thank you, see you then.", "cancelled": "We will call you to find another time.", "no_input": "Goodbye."}}'),
  ('demo-school', 'email', 'conference_reminder', 'School',
   'Parent-teacher conference on {data.appointment_date|date|MMM D [at] h:mm A}',
   E'Hi {data.first_name},\n\nYour parent-teacher conference with {data.provider} is on {data.appointment_date|date|dddd, MMMM D, YYYY [at] h:mm A}.\n\nTo change the time, call the school office at {company.phone_number|phone}.',
   '<p>Hi {data.first_name},</p><p>Your parent-teacher conference with {data.provider} is on {data.appointment_date|date|dddd, MMMM D, YYYY [at] h:mm A}.</p><p>To change the time, call the school office at {company.phone_number|phone}.</p>',
   '{}'),
  ('demo-utility', 'sms', 'service_notice', 'Utilities', null,
   '{company.name}: planned water service work at your address on {data.appointment_date|date|ddd MMM D [from] h:mm A}. Water may be off for up to 4 hours. Reply STOP to opt out.',
   null, '{}'),
  ('demo-utility', 'voice', 'service_notice', 'Utilities', null,
   'Hello {data.first_name}. This is {company.name}. We will be working on the water service at your address on {data.appointment_date|date|dddd, MMMM D [starting at] h:mm A}. Your water may be off for up to four hours.',
   null, '{}'),
  ('demo-utility', 'email', 'service_notice', 'Utilities',
   'Planned water service work on {data.appointment_date|date|MMM D}',
   E'Hello {data.first_name},\n\n{company.name} will work on the water service at your address on {data.appointment_date|date|dddd, MMMM D, YYYY [starting at] h:mm A}. Your water may be off for up to four hours.\n\nQuestions: {company.phone_number|phone}.',
   '<p>Hello {data.first_name},</p><p>{company.name} will work on the water service at your address on {data.appointment_date|date|dddd, MMMM D, YYYY [starting at] h:mm A}. Your water may be off for up to four hours.</p><p>Questions: {company.phone_number|phone}.</p>',
   '{}')
) as t (alias, channel, name, category, subject, body, html_body, details) on t.alias = c.alias;

insert into credit_ledger (company_id, kind, credits, credit_price_id, amount, note, actor)
select c.id, 'purchase', p.credits_package, p.id, p.credits_package * p.price_per_credit, 'demo starting credits', 'seed'
from companies c, credit_prices p
where c.alias in ('demo-school', 'demo-utility') and p.credits_package = 20000;
