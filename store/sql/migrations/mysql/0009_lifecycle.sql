-- Data lifecycle: erasure of a deleted user's personal data and outbox
-- retention.
--
-- user_id copies the event's UserID ("" for group and token events), so
-- that the events of one user are an index hit; personal is true while
-- the event's users still carry attributes (store.Erased is false).
-- Events recorded before this migration take both from their document.
-- The index on (tenant, time) serves pruning by age.
ALTER TABLE scim_events
    ADD COLUMN user_id VARBINARY(255) NOT NULL DEFAULT '',
    ADD COLUMN personal BOOLEAN NOT NULL DEFAULT FALSE,
    ADD KEY scim_events_user (tenant, user_id),
    ADD KEY scim_events_time (tenant, time);
UPDATE scim_events SET user_id = COALESCE(JSON_UNQUOTE(JSON_EXTRACT(doc, '$.UserID')), '');
UPDATE scim_events SET personal = TRUE WHERE user_id <> '';

-- The departed user's id ("" for departures recorded before this
-- migration), by which erasure finds a departure.
ALTER TABLE scim_departures
    ADD COLUMN user_id VARBINARY(255) NOT NULL DEFAULT '',
    ADD KEY scim_departures_user (tenant, user_id);
