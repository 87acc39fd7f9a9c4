/**
 * ChaosCraft frontend plugin. The default export of `./alpha` is the plugin for the new
 * frontend system; this entry point keeps the legacy exports.
 *
 * @packageDocumentation
 */
export { chaosPlugin, EntityChaosCard, EntityChaosContent } from './legacy';
export { chaosApiRef, ChaosClient } from './api';
export type { ChaosApi } from './api';
