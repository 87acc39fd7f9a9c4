export { RunButton } from './RunButton';
export type { RunButtonProps } from './RunButton';
export { GuardedButton } from './GuardedButton';
export type { GuardedButtonProps } from './GuardedButton';
