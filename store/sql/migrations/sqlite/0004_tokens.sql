-- The token API (store.TokenStore) on scim_tokens, reserved by 0003: the
-- admin's label for a token and the identity-provider connection it
-- belongs to ("" for one connection per tenant). digest is the hex
-- SHA-256 or HMAC-SHA-256 of the secret, never the secret.
ALTER TABLE scim_tokens ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE scim_tokens ADD COLUMN connection_name TEXT NOT NULL DEFAULT '';
