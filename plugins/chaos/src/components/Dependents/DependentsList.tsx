import useAsync from 'react-use/esm/useAsync';
import {
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableRow,
  Typography,
} from '@material-ui/core';
import { Progress, ResponseErrorPanel } from '@backstage/core-components';
import { useApi } from '@backstage/frontend-plugin-api';
import {
  EntityRefLink,
  EntityRefLinks,
  catalogApiRef,
} from '@backstage/plugin-catalog-react';
import { parseEntityRef } from '@backstage/catalog-model';
import { findDependents } from './dependents';

/**
 * The blast radius beyond the pods: who depends on the entity in the catalog graph (directly, or
 * through an API it provides) and who owns them, so they can be told before and after a run.
 */
export const DependentsList = (props: { entityRef: string }) => {
  const catalog = useApi(catalogApiRef);
  const dependents = useAsync(
    () => findDependents(catalog, props.entityRef),
    [catalog, props.entityRef],
  );
  const name = parseEntityRef(props.entityRef).name;

  if (dependents.loading) return <Progress />;
  if (dependents.error)
    return (
      <ResponseErrorPanel
        error={dependents.error}
        title="Could not read the catalog graph"
      />
    );
  if (!dependents.value?.length) {
    return (
      <Typography color="textSecondary">
        Nothing in the catalog depends on {name}: no entity has a dependsOn
        relation to it or consumes an API it provides.
      </Typography>
    );
  }
  return (
    <Table size="small" aria-label="Dependents">
      <TableHead>
        <TableRow>
          <TableCell>Entity</TableCell>
          <TableCell>Depends on {name}</TableCell>
          <TableCell>Owners</TableCell>
        </TableRow>
      </TableHead>
      <TableBody>
        {dependents.value.map(d => (
          <TableRow key={d.entityRef}>
            <TableCell>
              <EntityRefLink entityRef={d.entityRef} />
            </TableCell>
            <TableCell>
              {d.dependsDirectly && 'directly'}
              {d.dependsDirectly && d.viaApis.length > 0 && ', '}
              {d.viaApis.length > 0 && (
                <>
                  consumes{' '}
                  <EntityRefLinks entityRefs={d.viaApis} defaultKind="api" />
                </>
              )}
            </TableCell>
            <TableCell>
              {d.owners.length ? (
                <EntityRefLinks entityRefs={d.owners} defaultKind="group" />
              ) : (
                'no owner'
              )}
            </TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
};
