-- Agent names are how people and the audit tell agents apart ("dba-agent (agent of Alice Smith)"):
-- one name, one agent, whatever its case. The service refuses a taken name first, with a clear message;
-- this index holds when two admins create the same name at once. Partial and on an expression, so
-- schema.prisma cannot state it (Prisma has no partial indexes); people may share names.

-- Names taken twice before this index (the service compared them case-sensitively) keep the oldest
-- as it is; the others get their id's first characters appended, so the index can be built.
UPDATE "users" u SET "name" = u."name" || '-' || left(u."id"::text, 8)
FROM (
  SELECT "id", row_number() OVER (PARTITION BY lower("name") ORDER BY "created_at", "id") AS n
  FROM "users" WHERE "kind" = 'agent'
) dup
WHERE u."id" = dup."id" AND dup.n > 1;

CREATE UNIQUE INDEX "users_agent_name_key" ON "users" (lower("name")) WHERE "kind" = 'agent';
