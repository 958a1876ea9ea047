export * from './topology';
export * from './headers';
export * from './broker';
export * from './consumer';
export * from './dlq';
export * from './migrate-queues';
export * from './subscription';
