-- Who answered for a revision's author when it was written: the agent's owner then (null for people).
-- The two-person rules compare against the owner then and the owner now, so giving an agent to
-- another owner after it wrote a revision does not let its former owner sign or approve that work.
-- No foreign key: it records a fact of the past (accounts are never deleted, only deactivated).
ALTER TABLE "migration_revisions" ADD COLUMN "author_owner_id" UUID;

UPDATE "migration_revisions" r SET "author_owner_id" = u."owner_id"
FROM "users" u WHERE u."id" = r."created_by_id" AND u."kind" = 'agent';
