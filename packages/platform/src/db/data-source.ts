import { DataSource, type DataSourceOptions as TypeOrmOptions, type EntityManager } from 'typeorm';
import { databaseOptions } from '../config';
import { DependencyUnavailableError } from '../errors';
import { connectInUtc, utcMysql2 } from './utc-session';

export interface DataSourceOptions {
  poolSize?: number;
}

/** What a data source serves: the entities and the migrations that make their tables (the caller's). */
export interface DatabaseSchema {
  entities: NonNullable<TypeOrmOptions['entities']>;
  migrations: NonNullable<TypeOrmOptions['migrations']>;
}

/**
 * A TypeORM data source on mysql2 for `DATABASE_URL` with `schema`. Never `synchronize`: the
 * schema is migrations.
 */
export function createMysqlDataSource(
  databaseUrl: string,
  schema: DatabaseSchema,
  options: DataSourceOptions = {},
): DataSource {
  const db = databaseOptions(databaseUrl);
  return new DataSource({
    type: 'mysql',
    ...db,
    entities: schema.entities,
    migrations: schema.migrations,
    migrationsTableName: 'schema_migrations',
    synchronize: false,
    // mysql2 converts our Dates as UTC; its pools' connections also set the session to UTC, for
    // NOW(3) and CURRENT_TIMESTAMP(3) (see `UTC_SESSION_SQL`).
    driver: utcMysql2,
    timezone: 'Z',
    supportBigNumbers: true,
    bigNumberStrings: false,
    poolSize: options.poolSize ?? 20,
    connectTimeout: 5000,
    // No stack captured on every query (mysql2's default): it cost ~5 % of the gateway's CPU, and
    // a failed query's error still names its SQL.
    trace: false,
    // For `batchedTransaction`: several statements in one round trip. Every value still goes
    // through `?` placeholders (escaped by the driver); no SQL is ever built from input.
    multipleStatements: true,
    extra: { enableKeepAlive: true },
  });
}

/** Creates the database if it is missing (CONTRACT 2). */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const { database, host, port, username, password } = databaseOptions(databaseUrl);
  const connection = await connectInUtc({ host, port, user: username, password, connectTimeout: 5000 });
  try {
    await connection.query(
      `CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`,
    );
  } finally {
    await connection.end();
  }
}

/** Creates the database if needed and applies every pending migration of `schema`. */
export async function migrateDatabase(databaseUrl: string, schema: DatabaseSchema): Promise<string[]> {
  await ensureDatabase(databaseUrl);
  const dataSource = createMysqlDataSource(databaseUrl, schema, { poolSize: 2 });
  await dataSource.initialize();
  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  } finally {
    await dataSource.destroy();
  }
}

/** Opens a data source, translating "cannot connect" into `DependencyUnavailableError`. */
export async function openMysqlDataSource(
  databaseUrl: string,
  schema: DatabaseSchema,
  options: DataSourceOptions = {},
): Promise<DataSource> {
  const dataSource = createMysqlDataSource(databaseUrl, schema, options);
  try {
    await dataSource.initialize();
  } catch (error) {
    throw new DependencyUnavailableError('database', { cause: error });
  }
  return dataSource;
}

/** Result of an UPDATE/INSERT through `manager.query`: mysql2's header, whichever shape TypeORM gives. */
export function affectedRows(result: unknown): number {
  if (Array.isArray(result)) return affectedRows(result[1] ?? result[0]);
  if (typeof result === 'number') return result;
  const header = result as { affectedRows?: number } | undefined;
  return header?.affectedRows ?? 0;
}

/** The AUTO_INCREMENT id an INSERT through `manager.query` made. */
export function insertId(result: unknown): number {
  if (Array.isArray(result)) return insertId(result[1] ?? result[0]);
  const id = (result as { insertId?: number } | undefined)?.insertId;
  if (!id) throw new Error('the INSERT reported no insertId');
  return id;
}

export type { DataSource, EntityManager };
