export { RunPreview } from './RunPreview';
export type { RunPreviewProps } from './RunPreview';
