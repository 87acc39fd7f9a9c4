import type { ReactNode } from 'react';
import { Button, Tooltip } from '@material-ui/core';

export type GuardedButtonProps = {
  allowed: boolean;
  /** Shown as a tooltip on the disabled button, so people see why they cannot act. */
  reason: string;
  onClick: () => void;
  children: ReactNode;
  variant?: 'contained' | 'outlined' | 'text';
  color?: 'primary' | 'secondary' | 'default';
  /** Busy: disabled without a reason. */
  pending?: boolean;
  size?: 'small' | 'medium';
  'aria-label'?: string;
};

/** A button that stays visible but disabled, with the reason, when the user may not press it. */
export const GuardedButton = (props: GuardedButtonProps) => {
  const button = (
    <Button
      color={props.color ?? 'primary'}
      variant={props.variant ?? 'text'}
      size={props.size}
      disabled={!props.allowed || props.pending}
      onClick={props.onClick}
      aria-label={props['aria-label']}
    >
      {props.children}
    </Button>
  );
  return props.allowed ? (
    button
  ) : (
    <Tooltip title={props.reason}>
      <span>{button}</span>
    </Tooltip>
  );
};
