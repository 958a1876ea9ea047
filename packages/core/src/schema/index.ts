export * from './entities';
export { MIGRATIONS } from './migrations';
export * from './database';
