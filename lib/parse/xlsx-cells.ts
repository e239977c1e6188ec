// Turns an exceljs cell into a plain value: formulas by cached result, rich text flattened, date formats as Dates.
import { excelSerialToDate } from '../clean/excel-serial';
import type { CellValue } from './types';

export interface SheetCell {
  value: unknown;
  numFmt?: string;
}

// exceljs's own test, which it applies to plain numbers but not to formula results.
export function isDateFormat(format: string | undefined): boolean {
  if (!format) return false;
  return /[ymdhsb]/i.test(format.replace(/\[[^\]]*]/g, '').replace(/"[^"]*"/g, ''));
}

function plain(value: unknown, numFmt: string | undefined, date1904: boolean): CellValue {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return null;
    return isDateFormat(numFmt) ? (excelSerialToDate(value, date1904) ?? value) : value;
  }
  if (typeof value === 'string') return value.trim() === '' ? null : value;
  if (typeof value === 'boolean') return String(value);
  if (typeof value !== 'object') return String(value);
  const object = value as Record<string, unknown>;
  if (Array.isArray(object.richText)) {
    return plain(
      (object.richText as { text?: string }[]).map((run) => run.text ?? '').join(''),
      undefined,
      date1904,
    );
  }
  if ('formula' in object || 'sharedFormula' in object) return plain(object.result, numFmt, date1904);
  if ('result' in object) return plain(object.result, numFmt, date1904);
  if (typeof object.error === 'string') return object.error;
  if ('text' in object) return plain(object.text, undefined, date1904);
  return null;
}

export function cellToValue(cell: SheetCell, date1904: boolean): CellValue {
  return plain(cell.value, cell.numFmt, date1904);
}
