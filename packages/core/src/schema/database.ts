import {
  createMysqlDataSource,
  migrateDatabase,
  openMysqlDataSource,
  type DataSource,
  type DataSourceOptions,
} from '@payments/platform';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

/** The payment schema: its entities and the migrations that make their tables. */
export const PAYMENT_SCHEMA = { entities: ENTITIES, migrations: MIGRATIONS };

/** A data source for `DATABASE_URL` on the payment schema (not opened). */
export function createDataSource(databaseUrl: string, options: DataSourceOptions = {}): DataSource {
  return createMysqlDataSource(databaseUrl, PAYMENT_SCHEMA, options);
}

/** Creates the database if needed and applies every pending migration of the payment schema. */
export function migrate(databaseUrl: string): Promise<string[]> {
  return migrateDatabase(databaseUrl, PAYMENT_SCHEMA);
}

/** Opens the payment database, translating "cannot connect" into `DependencyUnavailableError`. */
export function openDataSource(databaseUrl: string, options: DataSourceOptions = {}): Promise<DataSource> {
  return openMysqlDataSource(databaseUrl, PAYMENT_SCHEMA, options);
}
