-- Mail me when a match writes while I am away (batched: one mail per
-- conversation per hour at most); settings and the mail's one-click link
-- turn it off.
ALTER TABLE users ADD COLUMN message_mail BOOLEAN NOT NULL DEFAULT TRUE;
