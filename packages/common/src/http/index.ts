export * from './signature';
export * from './ops-server';
