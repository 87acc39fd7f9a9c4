export { chaosApiRef } from './ChaosApi';
export type { ChaosApi } from './ChaosApi';
export { ChaosClient } from './ChaosClient';
