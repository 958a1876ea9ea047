/** What every sandbox provider shares (CONTRACT 6 and 9): faults, the notification sender, the control API, the ledger. */
export * from './faults';
export * from './hidden';
export * from './notify-sender';
export * from './control-api';
export * from './entry';
export * from './ledger';
export * from './pages';
export * from './setup';
