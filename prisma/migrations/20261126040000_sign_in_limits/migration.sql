-- Failed sign-ins per account and per address, kept by rate-limiter-flexible's PostgreSQL
-- store (the library's table layout, with TEXT keys), so that every instance counts together.
CREATE TABLE "sign_in_limits" (
    "key" TEXT NOT NULL,
    "points" INTEGER NOT NULL DEFAULT 0,
    "expire" BIGINT,

    CONSTRAINT "sign_in_limits_pkey" PRIMARY KEY ("key")
);
