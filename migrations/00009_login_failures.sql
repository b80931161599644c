-- +goose Up
-- Failed inbox logins, per account and e-mail: after a few in a short time
-- the e-mail is locked out for a while (password guessing), on every replica.
CREATE TABLE login_failures (
    account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    email      text NOT NULL,
    failed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_recent ON login_failures (account_id, email, failed_at DESC);

-- +goose Down
DROP TABLE login_failures;
