// Writes loadmaps/samples/demo-school-conferences.xlsx: a student-information-system roster as schools export it.
// Run with `npx tsx scripts/make-sample-roster.ts` after changing the rows (e.g. to move the dates forward).
import path from 'node:path';
import ExcelJS from 'exceljs';
import { PROJECT_ROOT } from '../lib/config';

type Cell = string | number | Date | { formula: string; result: string } | null;

const HEADERS = [
  'Student_Number', 'Student_Last', 'Student_First', 'Grade_Level', 'School', 'Homeroom_Teacher', 'Room',
  'Guardian1_Last', 'Guardian1_First', 'Guardian1_Cell', 'Guardian1_Home', 'Guardian1_Email',
  'Street', 'City', 'State', 'Zip', 'Home_Language', 'Conference_Date', 'Conference_Time',
];

// Excel keeps dates as day serials shown through a number format; exceljs takes a Date at UTC midnight for that.
const day = (iso: string) => new Date(`${iso}T00:00:00Z`);
// a time typed into a cell is a fraction of a day
const time = (hours: number, minutes: number) => (hours * 60 + minutes) / 1440;

// the messy parts are on purpose: ALL CAPS and lower-case names, phones Excel turned into numbers,
// dates as date cells and as text, times as time cells and as text, a formula, a blank row, bad rows
const ROWS: Cell[][] = [
  [240117, 'NGUYEN', 'BAO', 3, 'Maple Grove Elementary', 'Ms. Rebecca Hartley', { formula: '"Rm "&"114"', result: 'Rm 114' }, 'NGUYEN', 'LINH', 6305550142, null, 'linh.nguyen@example.com', '1420 Prairie Ave', 'Naperville', 'IL', 60540, 'Vietnamese', day('2027-03-09'), time(15, 30)],
  [240118, 'Okonkwo', 'Chidi', 3, 'Maple Grove Elementary', 'Ms. Rebecca Hartley', 'Rm 114', 'okonkwo', 'adaeze', '(630) 555-0177', '630-555-0178', 'ADAEZE.OKONKWO@EXAMPLE.COM', '88 Elm Ct', 'Naperville', 'IL', 60540, 'English', day('2027-03-09'), time(15, 45)],
  [240119, 'Ramirez', 'Sofia', 4, 'Maple Grove Elementary', 'Mr. David Kowalski', 'Rm 121', 'Ramírez', 'Guadalupe', '630.555.0190', null, 'lupe.ramirez@example.com', '301 Oak Hill Rd', 'Naperville', 'il', '60563', 'Spanish', '03/10/2027', '4:00 PM'],
  [240120, 'Ramirez', 'Mateo', 1, 'Maple Grove Elementary', 'Mrs. Angela Brooks', 'Rm 102', 'Ramírez', 'Guadalupe', '630.555.0190', null, 'lupe.ramirez@example.com', '301 Oak Hill Rd', 'Naperville', 'il', '60563', 'Spanish', '03/10/2027', '4:30 PM'],
  [240121, 'SMITH', 'OLIVIA', 5, 'Maple Grove Elementary', 'MR. DAVID KOWALSKI', 'Rm 121', 'SMITH', 'JENNIFER', 6305550111, null, null, '17 Birch Ln', 'Naperville', 'Illinois', 60565, 'English', day('2027-03-11'), '17:15'],
  [null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null],
  [250301, "O'Malley", 'Liam', 7, 'Cedar Valley Middle School', 'Mr. Thomas Reyes', 'Rm 210', "O'MALLEY", 'SIOBHAN', '630-555-01', null, 'siobhan.omalley@example', '9 Willow Dr', 'Naperville', 'IL', 60563, 'English', day('2027-03-12'), time(16, 0)],
  [250302, 'Patel', 'Anika', 8, 'Cedar Valley Middle School', 'Ms. Laura Chen', 'Rm 224', null, 'Raj', '(630) 555-0123', null, 'raj.patel@example.com', '55 Maple St', 'Naperville', 'IL', 60540, 'Gujarati', day('2027-03-12'), time(16, 15)],
  [250303, 'Johnson', 'Marcus', 6, 'Cedar Valley Middle School', 'Ms. Laura Chen', 'Rm 224', 'Johnson', 'Tanya', '630 555 0166', null, 'tanya.j@example.com', '702 Cedar Ave', 'Naperville', 'IL', 60565, 'English', null, '6:00 PM'],
  [250304, 'de la Fuente', 'Isabel', 8, 'Cedar Valley Middle School', 'Mr. Thomas Reyes', 'Rm 210', 'de la Fuente', 'Carmen', '+1 630 555 0133', null, 'carmen.delafuente@example.com', '14 Lakeview Ter', 'Naperville', 'IL', 60563, 'Spanish', '2027-03-15', '5:45 PM'],
];

const workbook = new ExcelJS.Workbook();
workbook.creator = 'PowerSchool SIS export';
// a first sheet that is not the data: the load map names its sheet
const readme = workbook.addWorksheet('Read Me');
readme.addRow(['Conference roster exported for Cedar Valley School District']);
readme.addRow(['One row per student; guardian 1 is the contact for reminders.']);
const sheet = workbook.addWorksheet('Conferences');
sheet.addRow(HEADERS).font = { bold: true };
for (const row of ROWS) sheet.addRow(row);
sheet.getColumn(HEADERS.indexOf('Conference_Date') + 1).numFmt = 'mm/dd/yyyy';
sheet.getColumn(HEADERS.indexOf('Conference_Time') + 1).numFmt = 'h:mm AM/PM';
const file = path.join(PROJECT_ROOT, 'loadmaps', 'samples', 'demo-school-conferences.xlsx');
await workbook.xlsx.writeFile(file);
process.stdout.write(`wrote ${path.relative(PROJECT_ROOT, file)}\n`);
