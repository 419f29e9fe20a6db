-- 0004: which version of the service rendered an export's file. The API
-- that later signs its manifest may run another version (a rolling
-- deployment); the manifest names both. Empty for files made before this.
--
-- Also of note since 0003: with SECRETS_KEY set, tenant_webhook_secrets.secret
-- and schedules.webhook_secret hold sealed values (package secretbox), not
-- the secrets in clear.

ALTER TABLE exports ADD COLUMN producer_version TEXT NOT NULL DEFAULT '';
