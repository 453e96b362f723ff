-- A contact's consents are found by contact, tenant and kind together. With only
-- (contact_id) and (tenant_id, created_at) to choose from, SQLite's planner took the
-- tenant's index for a segment's consent test and read every consent of the tenant
-- for each contact: a campaign's audience expansion grew with the square of the list.
CREATE INDEX consents_contact_kind ON consents(contact_id, tenant_id, kind);
DROP INDEX consents_contact;
