import {
  chaosRunSpecSchema,
  formatZodIssues,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { CONTINUE, ReconcileStep, stop } from '../pipeline';
import { finishRun } from './runFacts';

/**
 * Parses the spec with the one model schema. The API server already enforced the CRD schema;
 * this adds zod's defaults and the refinements a structural schema cannot express.
 */
export const parseSpec: ReconcileStep = {
  name: 'parseSpec',
  async run(context) {
    const parsed = chaosRunSpecSchema.safeParse(context.run.spec);
    if (parsed.success) {
      context.spec = parsed.data;
      return CONTINUE;
    }
    const issues = formatZodIssues(parsed.error)
      .map(issue => `spec.${issue.field}: ${issue.message}`)
      .join('; ');
    await finishRun(context, {
      phase: 'Failed',
      verdict: 'Refused',
      reason: 'InvalidSpec',
      message: `invalid spec: ${issues}`,
    });
    return stop();
  },
};
