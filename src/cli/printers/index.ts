export { printColumns, formatRow, columnWidths, COLUMN_GAP } from './table.js';
export type { Styler } from './table.js';
export { formatAge } from './age.js';
export { formatClusterResources, formatRequests, formatMiB } from './resources.js';
export { buildTable, clusterReplicaState, formatLabels } from './columns.js';
export type { Table, TableOptions } from './columns.js';
export { renderTable, renderData, renderNames, statusColor, statusStyler, OUTPUT_FORMATS } from './output.js';
export type { OutputFormat, RenderOptions } from './output.js';
