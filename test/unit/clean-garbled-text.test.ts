import { describe, expect, it } from 'vitest';
import { repairGarbledText } from '../../lib/clean';

describe('repairGarbledText', () => {
  it.each([
    ['JosÃ©', 'José'],
    ['Nguyá»…n', 'Nguyễn'],
    ['MÃ¼ller', 'Müller'],
    ['PEÃ‘A', 'PEÑA'],
    ['MarÃ­a JosÃ© PeÃ±a', 'María José Peña'],
    ['Ã\u0081lvaro', 'Álvaro'],
    ['naÃ¯ve café', 'naïve café'],
    ['O\u00e2\u20ac\u2122Neil', 'O\u2019Neil'],
  ])('reads %j as UTF-8 read as Windows-1252: %j', (garbled, meant) => {
    expect(repairGarbledText(garbled)).toBe(meant);
  });

  it.each(['José', 'Nguyễn', 'O’Neil', 'Ñuñez', 'plain ascii', '', 'Ã', 'Łukasz Żółw', '日本'])(
    'leaves %j alone',
    (text) => {
      expect(repairGarbledText(text)).toBeUndefined();
    },
  );
});
