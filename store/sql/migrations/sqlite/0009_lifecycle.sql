-- Data lifecycle: erasure of a deleted user's personal data and outbox
-- retention.
--
-- user_id copies the event's UserID ("" for group and token events), so
-- that the events of one user are an index hit; personal is 1 while the
-- event's users still carry attributes (store.Erased is false). Events
-- recorded before this migration take both from their document. The index
-- on (tenant, time) serves pruning by age.
ALTER TABLE scim_events ADD COLUMN user_id TEXT NOT NULL DEFAULT '';
ALTER TABLE scim_events ADD COLUMN personal INTEGER NOT NULL DEFAULT 0;
UPDATE scim_events SET user_id = COALESCE(json_extract(doc, '$.UserID'), '');
UPDATE scim_events SET personal = 1 WHERE user_id <> '';
CREATE INDEX scim_events_user ON scim_events (tenant, user_id);
CREATE INDEX scim_events_time ON scim_events (tenant, time);

-- The departed user's id ("" for departures recorded before this
-- migration), by which erasure finds a departure.
ALTER TABLE scim_departures ADD COLUMN user_id TEXT NOT NULL DEFAULT '';
CREATE INDEX scim_departures_user ON scim_departures (tenant, user_id);
