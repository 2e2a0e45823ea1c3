import postgres from 'postgres';

/** A subgraph's login role: it owns its schema and everything in it, and nothing else. */
export interface ServiceRole {
  /** The Postgres schema the service owns (`orders`). */
  schema: string;
  role: string;
  /** Unset: a role without a password (trust or certificate authentication). */
  password?: string;
}

/**
 * The role a service connects with, read from the URL it will use (so the password lives in one
 * Secret), or `stockgraph_<schema>` without a password when no URL is given.
 */
export function serviceRoleFrom(schema: string, serviceUrl: string | undefined): ServiceRole {
  if (!serviceUrl) return { schema, role: `stockgraph_${schema}` };
  const url = new URL(serviceUrl);
  const role = decodeURIComponent(url.username);
  if (!role) throw new Error(`the ${schema} service's database URL names no user`);
  return { schema, role, password: url.password ? decodeURIComponent(url.password) : undefined };
}

const quoteLiteral = (value: string) => `'${value.replace(/'/g, "''")}'`;
const quoteIdent = (value: string) => `"${value.replace(/"/g, '""')}"`;

/**
 * Creates (or updates) each service's role and hands it its schema and every object in it, connected
 * as an administrator after the migrations ran. Run it again after each migration: objects a
 * migration creates belong to whoever ran it until they are handed over.
 *
 * The role may connect and create schemas in the database (drizzle's migrator, which every service
 * runs at start, begins with CREATE SCHEMA IF NOT EXISTS, and PostgreSQL checks that privilege even
 * when the schema exists); it gets no privilege on any other service's schema, so it cannot read it.
 */
export async function grantServiceRoles(adminUrl: string, roles: ServiceRole[]): Promise<void> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const [{ db }] = await sql<[{ db: string }]>`select current_database() as db`;
    for (const { schema, role, password } of roles) {
      const exists = await sql`select 1 from pg_roles where rolname = ${role}`;
      if (exists.length === 0) await sql`create role ${sql(role)} login`;
      // ALTER ROLE takes no bind parameters; the password is quoted as a literal.
      const secret = password === undefined ? 'null' : quoteLiteral(password);
      await sql.unsafe(`alter role ${quoteIdent(role)} login nosuperuser nocreaterole nocreatedb password ${secret}`);
      await sql`grant connect, create on database ${sql(db)} to ${sql(role)}`;
      await sql`create schema if not exists ${sql(schema)}`;
      await sql`alter schema ${sql(schema)} owner to ${sql(role)}`;
      await sql`select set_config('stockgraph.schema', ${schema}, false),
        set_config('stockgraph.role', ${role}, false)`;
      await sql.unsafe(handOver);
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Every table, partition, sequence, view, type and function of stockgraph.schema to stockgraph.role. */
const handOver = `
do $$
declare
  target_schema text := current_setting('stockgraph.schema');
  target_role text := current_setting('stockgraph.role');
  item record;
begin
  for item in
    select c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = target_schema and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
      -- sequences of serial/identity columns follow their table
      and not exists (select 1 from pg_depend d where d.objid = c.oid and d.classid = 'pg_class'::regclass
        and d.refobjsubid > 0 and d.deptype in ('a', 'i'))
  loop
    execute format('alter %s %I.%I owner to %I',
      case item.relkind when 'S' then 'sequence' when 'v' then 'view' when 'm' then 'materialized view'
        when 'f' then 'foreign table' else 'table' end,
      target_schema, item.relname, target_role);
  end loop;
  for item in
    select t.typname from pg_type t join pg_namespace n on n.oid = t.typnamespace
    where n.nspname = target_schema and t.typtype in ('e', 'd', 'r')
  loop
    execute format('alter type %I.%I owner to %I', target_schema, item.typname, target_role);
  end loop;
  for item in
    select p.oid::regprocedure::text as signature from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = target_schema
  loop
    execute format('alter routine %s owner to %I', item.signature, target_role);
  end loop;
end $$`;
