-- The demo company `npm start` runs against: a clinic with one location, one provider, a plan and
-- starting credits. Its load maps come from loadmaps/*.json (lib/load-maps.ts keeps them in step).
insert into companies (alias, name, timezone, phone_number, email_from, email_reply_to, details, settings)
values ('demo-clinic', 'Lakeside Family Clinic', 'America/New_York', '+16175550100',
        'reminders@lakeside-clinic.example', 'frontdesk@lakeside-clinic.example',
        '{"address_1": "12 Harbor Street", "city": "Boston", "state": "MA", "zip": "02110"}',
        '{}');

insert into company_locations (company_id, name, city, state, zip, timezone)
select id, 'Harbor Street Office', 'Boston', 'MA', '02110', 'America/New_York' from companies where alias = 'demo-clinic';

insert into customers (company_id, external_id, name)
select id, 'DR-ALVAREZ', 'Dr. Maria Alvarez' from companies where alias = 'demo-clinic';

insert into company_plans (company_id, plan, max_sms_per_day, max_voice_per_day, max_email_per_day, max_sms_segments)
select id, 'standard', 5000, 1000, 5000, 4 from companies where alias = 'demo-clinic';

insert into contact_blocks (company_id, purpose, name, criteria)
select id, 'dedupe', 'patient id', '{"fields": ["external_id"]}' from companies where alias = 'demo-clinic';

insert into credit_ledger (company_id, kind, credits, credit_price_id, amount, note, actor)
select c.id, 'purchase', p.credits_package, p.id, p.credits_package * p.price_per_credit, 'demo starting credits', 'seed'
from companies c, credit_prices p where c.alias = 'demo-clinic' and p.credits_package = 5000;
