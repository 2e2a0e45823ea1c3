import { defineConfig } from 'drizzle-kit';

// Generates SQL migrations from src/db/schema.ts; never use `drizzle-kit push` (see docs/contributors/data.md).
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './src/db/migrations',
  schemaFilter: ['usage'],
});
