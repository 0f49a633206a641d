-- Per-tenant counters, kept by every write in the same transaction: the
-- number of users and groups (the total of an unfiltered list, without a
-- COUNT(*) over the tenant) and the number of deletions ever made, which
-- tells whether a remembered paging position is still valid (see page.go).
ALTER TABLE scim_tenants ADD COLUMN user_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE scim_tenants ADD COLUMN group_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE scim_tenants ADD COLUMN user_deletes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE scim_tenants ADD COLUMN group_deletes BIGINT NOT NULL DEFAULT 0;
UPDATE scim_tenants SET
    user_count = (SELECT COUNT(*) FROM scim_users u WHERE u.tenant = scim_tenants.name),
    group_count = (SELECT COUNT(*) FROM scim_groups g WHERE g.tenant = scim_tenants.name);
