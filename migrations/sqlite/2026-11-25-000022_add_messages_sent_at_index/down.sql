DROP INDEX messages_sent_at;
