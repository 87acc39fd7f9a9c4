export * from './NetnsResolver';
export { StaticNetnsResolver, IP_NETNS_DIR } from './StaticNetnsResolver';
export {
  CrictlNetnsResolver,
  DEFAULT_RUNTIME_ENDPOINT,
} from './CrictlNetnsResolver';
export type { CrictlOptions } from './CrictlNetnsResolver';
