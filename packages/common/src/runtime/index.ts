export * from './process';
export * from './periodic';
