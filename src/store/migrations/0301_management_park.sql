-- 0301 management: the park model the inputs were checked against, stored beside them, so the
-- API answers from the same registry the inputs name (set by `nengtan mgmt inputs-load`).
ALTER TABLE mgmt_inputs ADD COLUMN park_document jsonb;
