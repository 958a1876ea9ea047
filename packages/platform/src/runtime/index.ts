export * from './process';
export * from './periodic';
export * from './service';
export * from './schedule';
