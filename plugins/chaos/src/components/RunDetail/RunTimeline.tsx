import { List, ListItem, ListItemText, Typography } from '@material-ui/core';
import type { RunTimelineEvent } from '@chaoscraft/backstage-plugin-chaos-common';
import { formatTime } from './RunStatus';

/** Phase transitions in time order, each with why it happened. */
export const RunTimeline = (props: { timeline: RunTimelineEvent[] }) => {
  const events = [...props.timeline].sort(
    (a, b) => Date.parse(a.time) - Date.parse(b.time),
  );
  if (events.length === 0) {
    return (
      <Typography color="textSecondary">
        No phase transitions recorded yet.
      </Typography>
    );
  }
  return (
    <List dense component="ol" aria-label="Phase timeline">
      {events.map((e, i) => (
        <ListItem key={`${e.time}-${i}`} divider={i < events.length - 1}>
          <ListItemText
            primary={
              <>
                <strong>{e.phase}</strong>{' '}
                <Typography
                  component="span"
                  variant="caption"
                  color="textSecondary"
                >
                  {formatTime(e.time)}
                </Typography>
              </>
            }
            secondary={
              [e.reason, e.message].filter(Boolean).join(': ') || undefined
            }
          />
        </ListItem>
      ))}
    </List>
  );
};
