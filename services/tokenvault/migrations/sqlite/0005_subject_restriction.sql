-- +goose Up
-- A subject's processing restricted (GDPR Art. 18, a data-subject request
-- through the consent service): while restricted_us is set, no workload or
-- staff member reads the subject's values (Detokenize, RevealMasked); only
-- the customer reads their own. restrict_request is the request that set
-- it. Lifting the restriction sets both back to NULL.
ALTER TABLE subjects ADD COLUMN restricted_us INTEGER;
ALTER TABLE subjects ADD COLUMN restrict_request TEXT;

-- +goose Down
ALTER TABLE subjects DROP COLUMN restrict_request;
ALTER TABLE subjects DROP COLUMN restricted_us;
