import {
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableRow,
} from '@material-ui/core';
import type { StepRecord } from '@chaoscraft/backstage-plugin-chaos-common';
import { formatTime } from './RunStatus';

/**
 * A progressive run's steps: the blast radius each one widened to, when its faults were in (its
 * gate's hold counts from there) and whether its gate held.
 */
export const StepsTable = (props: { steps: StepRecord[] }) => (
  <Table size="small" aria-label="Progressive steps">
    <TableHead>
      <TableRow>
        <TableCell>Step</TableCell>
        <TableCell>Blast radius</TableCell>
        <TableCell>Faults in</TableCell>
        <TableCell>Finished</TableCell>
        <TableCell>Gate</TableCell>
      </TableRow>
    </TableHead>
    <TableBody>
      {props.steps.map(step => (
        <TableRow key={step.index}>
          <TableCell>
            {step.index + 1} of {props.steps.length}
          </TableCell>
          <TableCell>
            {step.blastRadius.selected} of {step.blastRadius.eligible} pods (
            {step.blastRadius.percent}%)
          </TableCell>
          <TableCell>
            {step.injectedAt ? formatTime(step.injectedAt) : '—'}
          </TableCell>
          <TableCell>
            {step.finishedAt ? formatTime(step.finishedAt) : '—'}
          </TableCell>
          <TableCell>{step.result}</TableCell>
        </TableRow>
      ))}
    </TableBody>
  </Table>
);
