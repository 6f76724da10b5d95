-- Schema version 10: e-mail subscriptions to the weekly briefing, and one row per user and week for the
-- message sent (or tried) to them (docs/server.md, "E-mail subscriptions").
-- Frozen once released: change the schema with a new numbered migration, never by editing this file.

-- One subscription per account. programmes lists catalogue programme ids; empty means every programme the
-- account may read. weekday is ISO (1 = Monday … 7 = Sunday): the day of the week the briefing is due.
-- Unsubscribing sets active = false, so the row and its change log stay.
CREATE TABLE subscriptions (
    user_name VARCHAR PRIMARY KEY REFERENCES users (user_name),
    email VARCHAR NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    programmes VARCHAR[] NOT NULL DEFAULT [],
    weekday INTEGER NOT NULL DEFAULT 1 CHECK (weekday BETWEEN 1 AND 7),
    active BOOLEAN NOT NULL DEFAULT true,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- One row per account and ISO week (week = that week's Monday), claimed as 'pending' before the message is
-- handed to the SMTP server and marked 'sent' or 'failed' after, each in its own transaction. The UNIQUE
-- key is what makes a second message for the same user and week impossible, whatever the day the
-- subscription's weekday is moved to and however often the job runs. A failed send is tried again once
-- next_attempt_at has passed; NULL there means no further attempt.
CREATE TABLE mail_deliveries (
    user_name VARCHAR NOT NULL REFERENCES users (user_name),
    week DATE NOT NULL CHECK (isodow(week) = 1),
    as_of DATE NOT NULL,
    email VARCHAR NOT NULL,
    status VARCHAR NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL CHECK (attempts >= 1),
    claimed_at TIMESTAMP NOT NULL,
    next_attempt_at TIMESTAMP,
    last_error VARCHAR,
    sent_at TIMESTAMP,
    message_id VARCHAR,
    UNIQUE (user_name, week)
);
