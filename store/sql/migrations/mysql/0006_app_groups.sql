-- Groups the app created itself (store.Group.AppOwned), which an identity
-- provider imports and links to, and the groups a deactivated user left
-- (store.LeftGroupsRecorder), so that a reactivation can restore them.
ALTER TABLE scim_groups ADD COLUMN app_owned BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE scim_left_groups (
    tenant   VARBINARY(255) NOT NULL,
    user_id  VARBINARY(255) NOT NULL,
    group_id VARBINARY(255) NOT NULL,
    PRIMARY KEY (tenant, user_id, group_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
