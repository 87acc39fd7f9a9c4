export { EntityChaosContent } from './EntityChaosContent';
