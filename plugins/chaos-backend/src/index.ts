export { chaosPlugin as default } from './plugin';
export {
  localFileUrlReaderFactory,
  LocalFileUrlReader,
} from './experimentsAsCode/LocalFileUrlReader';
