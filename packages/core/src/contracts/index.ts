export * from './apply';
export * from './events';
export * from './notification';
