-- Case-insensitive keys are store.Fold's compatibility caseless form
-- (format characters dropped, NFKD, Unicode full case folding), computed
-- in Go on every write. Member displays get a folded copy too, so that
-- members[display eq "…"] compares as every other store does instead of
-- with the engine's lower().
--
-- The statement below folds ASCII displays; Migrate then recomputes, in
-- Go, the folded display of every member whose display is not ASCII and
-- every key and filter document that the new folding changes (see
-- Store.Refold). Apps that apply these files with their own tool call
-- Store.Refold after this one.
ALTER TABLE scim_members ADD COLUMN display_folded TEXT NOT NULL DEFAULT '';
UPDATE scim_members SET display_folded = lower(display);
