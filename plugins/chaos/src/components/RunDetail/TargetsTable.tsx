import {
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableRow,
  Typography,
} from '@material-ui/core';
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
            {/* Short identifiers: kept on one line so the free-text reason takes the wrap. */}
            <TableCell style={{ whiteSpace: 'nowrap' }}>
              {t.node ?? '—'}
            </TableCell>
            <TableCell style={{ whiteSpace: 'nowrap' }}>{t.fault}</TableCell>
            <TableCell style={{ whiteSpace: 'nowrap' }}>{t.phase}</TableCell>
            <TableCell>
              {[t.reason, t.message].filter(Boolean).join(': ') || '—'}
            </TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
};
