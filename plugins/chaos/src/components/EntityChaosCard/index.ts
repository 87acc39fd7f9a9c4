export { EntityChaosCard } from './EntityChaosCard';
