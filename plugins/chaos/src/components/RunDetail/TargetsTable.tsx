import { Table, TableBody, TableCell, TableHead, TableRow, Typography } from '@material-ui/core';
import type { TargetRecord } from '@chaoscraft/backstage-plugin-chaos-common';

/** One row per (pod, fault): what chaos did to it and how it ended. */
export const TargetsTable = (props: { targets: TargetRecord[] }) => {
  if (props.targets.length === 0) {
    return <Typography color="textSecondary">No targets selected.</Typography>;
  }
  return (
    <Table size="small" aria-label="Targets">
      <TableHead>
        <TableRow>
          <TableCell>Pod</TableCell>
          <TableCell>Node</TableCell>
          <TableCell>Fault</TableCell>
          <TableCell>Phase</TableCell>
          <TableCell>Reason</TableCell>
        </TableRow>
      </TableHead>
      <TableBody>
        {props.targets.map(t => (
          <TableRow key={`${t.pod}/${t.fault}`}>
            <TableCell>{t.pod}</TableCell>
            <TableCell>{t.node ?? '—'}</TableCell>
            <TableCell>{t.fault}</TableCell>
            <TableCell>{t.phase}</TableCell>
            <TableCell>{[t.reason, t.message].filter(Boolean).join(': ') || '—'}</TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
};
