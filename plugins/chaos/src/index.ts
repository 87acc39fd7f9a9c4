export { chaosPlugin as default } from './plugin';
