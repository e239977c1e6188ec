// A workbook written part by part, so tests choose the order of its parts and what they hold.
import { deflateRawSync } from 'node:zlib';
import { zip } from './zip';

const MAIN = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const RELATIONSHIPS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';

export const WORKBOOK_PARTS = [
  'xl/workbook.xml',
  'xl/_rels/workbook.xml.rels',
  'xl/sharedStrings.xml',
  'xl/worksheets/sheet1.xml',
] as const;
export type WorkbookPart = (typeof WORKBOOK_PARTS)[number];

/**
 * One sheet, "Roster": a header (Name, Visits) and two rows (Ann 7, Bob 8), stored in `order`. Its
 * shared strings are the four names, or `strings` (the XML inside <sst>) when given.
 */
export function minimalWorkbook(order: readonly WorkbookPart[] = WORKBOOK_PARTS, strings?: string): Buffer {
  const parts: Record<WorkbookPart, string> = {
    'xl/workbook.xml': `<workbook xmlns="${MAIN}" xmlns:r="${RELATIONSHIPS}"><sheets><sheet name="Roster" sheetId="1" r:id="rId1"/></sheets></workbook>`,
    'xl/_rels/workbook.xml.rels':
      '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
      `<Relationship Id="rId1" Type="${RELATIONSHIPS}/worksheet" Target="worksheets/sheet1.xml"/>` +
      `<Relationship Id="rId2" Type="${RELATIONSHIPS}/sharedStrings" Target="sharedStrings.xml"/></Relationships>`,
    'xl/sharedStrings.xml': `<sst xmlns="${MAIN}">${strings ?? '<si><t>Name</t></si><si><t>Visits</t></si><si><t>Ann</t></si><si><t>Bob</t></si>'}</sst>`,
    'xl/worksheets/sheet1.xml':
      `<worksheet xmlns="${MAIN}"><sheetData>` +
      '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>' +
      '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2"><v>7</v></c></row>' +
      '<row r="3"><c r="A3" t="s"><v>3</v></c><c r="B3"><v>8</v></c></row>' +
      '</sheetData></worksheet>',
  };
  return zip(
    order.map((name) => {
      const text = Buffer.from(parts[name]);
      return { name, data: deflateRawSync(text), realSize: text.length };
    }),
  );
}
