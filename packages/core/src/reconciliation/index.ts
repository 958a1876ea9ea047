export * from './statement';
export * from './classify';
export * from './run';
export * from './report';
export * from './metrics';
