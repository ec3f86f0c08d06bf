// The xlsx writers a Supabase user would reach for in an Edge Function, run
// under Deno from npm as an Edge Function runs them, on the rows of
// bench/xlsx_writers.py (the same xorshift32 draws, so the same values).
//
//   deno run -A bench/xlsx_writers_deno.ts <writer> <rows> <path>
//
// (-A: exceljs reads the umask, and the peak RSS is read from /proc.)
//
// <writer>: exceljs (its streaming WorkbookWriter) or sheetjs (the sheet made
// in memory, then written). Prints {"seconds", "peak_rss_mb"} as JSON: the
// time of making the rows and writing the file, and the process's peak RSS.

import ExcelJS from "npm:exceljs@4.4.0";
import * as XLSX from "npm:xlsx@0.18.5";

const HEADERS = [
  "Aktivitets-ID",
  "Lokallag",
  "Fylkesnr",
  "Kommunenr",
  "Aktivitetstype",
  "Dato",
  "Varighet (min)",
  "Timer",
  "Deltakere",
  "Kontaktform",
  "I Norge",
];
const DATE_COLUMN = 5, HOURS_COLUMN = 7;
const CHAPTERS = ["Oslo", "Bergen", "Tromsø", "Bodø", "Ålesund"];
const COUNTIES = ["03", "11", "15", "18", "31", "46", "50", "55"];
const TYPES = ["Samtalegruppe", "Aktivitetsgruppe", "Oppsøkende", "Likepersonskurs"];
const MINUTES = [30, 45, 60, 90, 120, 180];
const CONTACTS = ["Fysisk oppmøte", "Video", "Telefon"];
const FIRST_DAY = Date.UTC(2025, 0, 1);

type Row = [string, string, string, string, string, Date, number, number, number, string, boolean];

function* rows(count: number): Generator<Row> {
  let state = 2025;
  const draw = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
  const pick = <T>(values: T[]): T => values[draw() % values.length];
  const hex = (): string => draw().toString(16).padStart(8, "0");
  for (let n = 0; n < count; n++) {
    const id = hex() + hex() + hex() + hex();
    const minutes = pick(MINUTES);
    yield [
      `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${
        id.slice(20)
      }`,
      `NHF ${pick(CHAPTERS)}`,
      pick(COUNTIES),
      String(301 + draw() % 5399).padStart(4, "0"),
      pick(TYPES),
      new Date(FIRST_DAY + (draw() % 365) * 86_400_000),
      minutes,
      Math.round(minutes / 60 * 100) / 100,
      1 + draw() % 19,
      pick(CONTACTS),
      draw() % 100 < 97,
    ];
  }
}

async function exceljs(path: string, count: number): Promise<void> {
  const book = new ExcelJS.stream.xlsx.WorkbookWriter({
    filename: path,
    useSharedStrings: false,
    useStyles: true,
  });
  const sheet = book.addWorksheet("Aktiviteter");
  sheet.columns = HEADERS.map((header, index) => ({
    header,
    key: String(index),
    style: index === DATE_COLUMN
      ? { numFmt: "dd.mm.yyyy" }
      : index === HOURS_COLUMN
      ? { numFmt: "0.00" }
      : {},
  }));
  for (const row of rows(count)) sheet.addRow(row).commit();
  sheet.commit();
  await book.commit();
}

function sheetjs(path: string, count: number): void {
  const data: unknown[][] = [HEADERS, ...rows(count)];
  const sheet = XLSX.utils.aoa_to_sheet(data, { cellDates: true, dateNF: 'dd"."mm"."yyyy' });
  for (let r = 1; r <= count; r++) {
    const cell = sheet[XLSX.utils.encode_cell({ r, c: HOURS_COLUMN })];
    if (cell) cell.z = "0.00";
  }
  const book = XLSX.utils.book_new();
  XLSX.utils.book_append_sheet(book, sheet, "Aktiviteter");
  const bytes = XLSX.write(book, { type: "array", bookType: "xlsx", compression: true });
  Deno.writeFileSync(path, new Uint8Array(bytes));
}

function peakRssMb(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  const kib = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  return kib / 1024;
}

const [writer, rowsArg, path] = Deno.args;
const count = Number(rowsArg);
const began = performance.now();
if (writer === "exceljs") await exceljs(path, count);
else if (writer === "sheetjs") sheetjs(path, count);
else throw new Error(`unknown writer ${writer}: exceljs or sheetjs`);
const seconds = (performance.now() - began) / 1000;
console.log(JSON.stringify({ seconds, peak_rss_mb: peakRssMb() }));
