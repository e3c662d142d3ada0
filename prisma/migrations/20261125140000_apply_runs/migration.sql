-- AlterEnum
ALTER TYPE "RunKind" ADD VALUE 'apply';
ALTER TYPE "RunKind" ADD VALUE 'down';
