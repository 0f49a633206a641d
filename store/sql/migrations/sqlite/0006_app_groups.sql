-- Groups the app created itself (store.Group.AppOwned), which an identity
-- provider imports and links to, and the groups a deactivated user left
-- (store.LeftGroupsRecorder), so that a reactivation can restore them.
ALTER TABLE scim_groups ADD COLUMN app_owned INTEGER NOT NULL DEFAULT 0;

CREATE TABLE scim_left_groups (
    tenant   TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    group_id TEXT NOT NULL,
    PRIMARY KEY (tenant, user_id, group_id)
);
