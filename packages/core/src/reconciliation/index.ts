export * from './statement';
export * from './classify';
export * from './bill-days';
export * from './types';
export * from './claim';
export * from './run';
export { keptStatementBytes } from './statement-store';
export * from './report';
export * from './metrics';
