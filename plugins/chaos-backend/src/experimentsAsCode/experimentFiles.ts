import {
  readChaosExperimentDocument,
  type ExperimentSpec,
  type SourceProblem,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { parseAllDocuments } from 'yaml';

/** One file read from an experiments-location. */
export type ExperimentFile = {
  /** The file's URL (what problems and the experiment's source name). */
  url: string;
  text: string;
};

/** An experiment read from a file, before it is bound to the entity. */
export type FileExperiment = {
  spec: ExperimentSpec;
  source: string;
  url: string;
};

/** A file that big is not an experiment: it is refused unread. */
export const MAX_FILE_BYTES = 256 * 1024;

/**
 * Reads ChaosExperiment documents out of YAML files (a file may hold several, separated by
 * `---`), as experiments of `entityRef`. Every document that is not YAML, or breaks the model,
 * becomes a problem naming the file, the document and the field; the rest are read.
 */
export function readExperimentFiles(
  files: ExperimentFile[],
  entityRef: string,
): { experiments: FileExperiment[]; problems: SourceProblem[] } {
  const experiments: FileExperiment[] = [];
  const problems: SourceProblem[] = [];
  for (const file of files) {
    if (Buffer.byteLength(file.text) > MAX_FILE_BYTES) {
      problems.push({
        kind: 'parse',
        source: file.url,
        message: `the file is larger than ${MAX_FILE_BYTES / 1024} KiB`,
      });
      continue;
    }
    const documents = parseAllDocuments(file.text, { prettyErrors: true });
    if (!Array.isArray(documents)) {
      // An empty stream: nothing to read.
      continue;
    }
    const several = documents.length > 1;
    documents.forEach((document, index) => {
      const source = several ? `${file.url}#${index + 1}` : file.url;
      if (document.errors.length > 0) {
        for (const error of document.errors) {
          const at = error.linePos?.[0];
          problems.push({
            kind: 'parse',
            source,
            message: `${
              at ? `line ${at.line}, column ${at.col}: ` : ''
            }${error.message
              .split('\n')[0]
              .replace(/ at line \d+, column \d+:?$/, '')}`,
          });
        }
        return;
      }
      const value = document.toJS({ maxAliasCount: 50 });
      if (value === null || value === undefined) return;
      const reading = readChaosExperimentDocument(value, entityRef);
      if (reading.issues) {
        for (const issue of reading.issues) {
          problems.push({
            kind: 'invalid',
            source,
            name: reading.name,
            field: issue.field,
            message: issue.message,
          });
        }
        return;
      }
      experiments.push({ spec: reading.spec, source, url: file.url });
    });
  }
  return { experiments, problems };
}
