/** The one shape a stored export file may have. */

import { isUuid } from "./validate.ts";

const FILE_NAME = /^[a-z0-9][a-z0-9-]{0,63}\.(xlsx|csv|zip)$/;

export interface ExportRow {
  id: string;
  organisation_id: string;
  status: string;
  file_path?: string | null;
}

/** Whether `file_path` is exactly `<organisation_id>/<id>/<file name>`. */
export function hasExportFilePath(row: ExportRow): row is ExportRow & {
  file_path: string;
} {
  const prefix = `${row.organisation_id}/${row.id}/`;
  return isUuid(row.organisation_id) && isUuid(row.id) &&
    typeof row.file_path === "string" && row.file_path.startsWith(prefix) &&
    FILE_NAME.test(row.file_path.slice(prefix.length));
}
