export * from './append';
export * from './relay';
export * from './inbox';
