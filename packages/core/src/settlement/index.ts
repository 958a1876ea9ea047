export * from './settlement';
export * from './attempt-row';
export * from './close-and-settle';
