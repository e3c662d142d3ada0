/**
 * A small application as a project's repository would hold it: its schema.prisma and the SQL Prisma
 * Migrate writes for it (enum with @map, @@map tables, @map columns, a native type, defaults, a
 * descending index, a relation with onDelete, a scalar list and an implicit many-to-many).
 */
export const SHOP_PRISMA_SCHEMA = `// The shop's data model.
generator client {
  provider = "prisma-client"
  output   = "../generated/prisma"
}

datasource db {
  provider = "postgresql"
}

enum OrderStatus {
  PENDING
  SHIPPED @map("shipped")
}

model Customer {
  id        Int      @id @default(autoincrement())
  email     String   @unique @db.VarChar(200)
  name      String?
  createdAt DateTime @default(now()) @map("created_at")
  orders    Order[]
  tags      Tag[]

  @@map("customers")
}

model Order {
  id         String      @id @default(uuid()) @db.Uuid
  customerId Int         @map("customer_id")
  customer   Customer    @relation(fields: [customerId], references: [id], onDelete: Cascade)
  status     OrderStatus @default(PENDING)
  total      Decimal     @default(0) @db.Decimal(10, 2)
  notes      String[]

  @@index([customerId, status(sort: Desc)])
  @@map("orders")
}

model Tag {
  id        Int        @id @default(autoincrement())
  label     String     @unique
  customers Customer[]
}
`;

export const SHOP_SQL = `
CREATE TYPE "OrderStatus" AS ENUM ('PENDING', 'shipped');
CREATE TABLE "customers" ("id" SERIAL NOT NULL, "email" VARCHAR(200) NOT NULL, "name" TEXT, "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, CONSTRAINT "customers_pkey" PRIMARY KEY ("id"));
CREATE TABLE "orders" ("id" UUID NOT NULL, "customer_id" INTEGER NOT NULL, "status" "OrderStatus" NOT NULL DEFAULT 'PENDING', "total" DECIMAL(10,2) NOT NULL DEFAULT 0, "notes" TEXT[], CONSTRAINT "orders_pkey" PRIMARY KEY ("id"));
CREATE TABLE "Tag" ("id" SERIAL NOT NULL, "label" TEXT NOT NULL, CONSTRAINT "Tag_pkey" PRIMARY KEY ("id"));
CREATE TABLE "_CustomerToTag" ("A" INTEGER NOT NULL, "B" INTEGER NOT NULL, CONSTRAINT "_CustomerToTag_AB_pkey" PRIMARY KEY ("A","B"));
CREATE UNIQUE INDEX "customers_email_key" ON "customers"("email");
CREATE INDEX "orders_customer_id_status_idx" ON "orders"("customer_id", "status" DESC);
CREATE UNIQUE INDEX "Tag_label_key" ON "Tag"("label");
CREATE INDEX "_CustomerToTag_B_index" ON "_CustomerToTag"("B");
ALTER TABLE "orders" ADD CONSTRAINT "orders_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customers"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "_CustomerToTag" ADD CONSTRAINT "_CustomerToTag_A_fkey" FOREIGN KEY ("A") REFERENCES "customers"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "_CustomerToTag" ADD CONSTRAINT "_CustomerToTag_B_fkey" FOREIGN KEY ("B") REFERENCES "Tag"("id") ON DELETE CASCADE ON UPDATE CASCADE;
`;
